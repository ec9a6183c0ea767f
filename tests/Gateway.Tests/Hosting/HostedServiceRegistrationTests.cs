using Gateway.Authentication;
using Gateway.Development;
using Gateway.Licensing;
using Gateway.Store;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Gateway.Tests.Hosting;

/// <summary>
/// Registering the gateway's services a second time (a host that calls an extension twice, or two
/// extensions that share a part) adds no hosted service twice: each background service runs once.
/// </summary>
public sealed class HostedServiceRegistrationTests
{
    [Fact]
    public void The_gateways_background_services_are_registered_once_however_often_they_are_added()
    {
        var services = new ServiceCollection();
        AddGatewayParts(services);
        var once = HostedServices(services);

        AddGatewayParts(services);

        Assert.Equal(once, HostedServices(services));
        Assert.Contains(typeof(SigningKeyRefresher), once);
        Assert.Contains(typeof(EmbeddedStoreCheckpointer), once);
        Assert.Equal(once.Distinct(), once);
    }

    [Fact]
    public void The_development_demo_runs_its_services_once_when_added_twice()
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = Environments.Development });
        builder.Configuration["Demo:Enabled"] = "true";

        builder.AddDevelopmentDemo().AddDevelopmentDemo();

        var demo = HostedServices(builder.Services).Where(t => t.Namespace == typeof(DemoOptions).Namespace).ToArray();
        Assert.Equal([typeof(DemoBackend), typeof(DemoTokens)], demo);
    }

    private static void AddGatewayParts(IServiceCollection services)
    {
        services.AddLicensingEngine();
        services.AddLicensingStoreConnection();
        services.AddGatewayAuthentication();
    }

    /// <summary>The implementation type of every hosted service registration, in a stable order.</summary>
    private static Type[] HostedServices(IServiceCollection services) =>
        services.Where(d => d.ServiceType == typeof(IHostedService))
            .Select(d => d.ImplementationType ?? d.ImplementationInstance?.GetType() ?? d.ImplementationFactory!.GetType().GenericTypeArguments[^1])
            .OrderBy(t => t.FullName, StringComparer.Ordinal)
            .ToArray();
}
