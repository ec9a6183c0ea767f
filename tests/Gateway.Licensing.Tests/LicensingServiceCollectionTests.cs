using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Gateway.Licensing.Tests;

/// <summary>The engine's registrations: safe to make twice, and complete without a host's defaults.</summary>
public sealed class LicensingServiceCollectionTests
{
    [Fact]
    public void Registering_the_engine_twice_runs_each_hosted_service_once()
    {
        var services = new ServiceCollection();
        services.AddLicensingEngine();
        var once = HostedServiceTypes(services);

        services.AddLicensingEngine();

        Assert.NotEmpty(once);
        Assert.Equal(once, HostedServiceTypes(services));
        Assert.Equal(once.Distinct().Count(), once.Length);
    }

    [Fact]
    public void The_engine_registers_the_meter_factory_its_metrics_need()
    {
        var services = new ServiceCollection();
        services.AddLicensingEngine();

        using var provider = services.BuildServiceProvider();

        Assert.NotNull(provider.GetService<IMeterFactory>());
    }

    private static Type[] HostedServiceTypes(IServiceCollection services) =>
        services.Where(d => d.ServiceType == typeof(IHostedService))
            .Select(d => d.ImplementationType ?? d.ImplementationFactory!.GetType().GenericTypeArguments[1])
            .ToArray();
}
