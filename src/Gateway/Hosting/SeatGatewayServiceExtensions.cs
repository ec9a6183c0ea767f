using Microsoft.Extensions.DependencyInjection.Extensions;
using Gateway.Authentication;
using Gateway.Identity;
using Gateway.Licensing;
using Gateway.Licensing.Options;
using Gateway.Management;
using Gateway.Proxy;
using Gateway.RoutePolicies;
using Gateway.SeatConsole;
using Gateway.Store;
using Gateway.Telemetry;
using Microsoft.Extensions.Options;

namespace Gateway.Hosting;

public static class SeatGatewayServiceExtensions
{
    /// <summary>
    /// Registers the seat gateway: <c>Licensing</c> options (validated at start), the licensing engine,
    /// the store connection, JwtBearer, forwarded headers, YARP with the licensing step, health checks.
    /// Configuration is read lazily (when services are resolved), so test hosts can override it.
    /// </summary>
    public static WebApplicationBuilder AddSeatGateway(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<LicensingOptions>().BindConfiguration(LicensingOptions.SectionName);
        services.AddLicensingEngine();
        services.AddLicensingStoreConnection();
        services.AddGatewayAuthentication();
        services.AddGatewayForwardedHeaders();
        services.AddSeatLicensingProxy(builder.Configuration.GetSection("ReverseProxy"));
        services.AddRoutePolicies();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<LicensingOptions>, DroppedConfigurationEntries.LicensingTenants>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<RoutePolicyOptions>, DroppedConfigurationEntries.RoutePolicyEntries>());
        services.AddGatewayHealthChecks();
        services.AddGatewayTelemetry(builder.Configuration);

        services.AddLicensingManagementApi();
        services.AddSeatConsole();
        // DELETE /v1/me/sessions/current ends the session the proxy would use for this request.
        services.TryAddSingleton<ICurrentSessionResolver, ProxyCurrentSessionResolver>();
        return builder;
    }
}
