using Gateway.Identity;
using Gateway.Management;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Gateway.Proxy;

public static class SeatLicensingProxyExtensions
{
    /// <summary>
    /// Adds the licensing step to the YARP proxy pipeline; put it first, before session affinity and
    /// load balancing, so a refused request never picks a destination.
    /// </summary>
    public static IReverseProxyApplicationBuilder UseSeatLicensing(this IReverseProxyApplicationBuilder proxy)
    {
        proxy.UseMiddleware<SeatLicensingMiddleware>();
        return proxy;
    }

    /// <summary>YARP from the <c>ReverseProxy</c> section, with the per-route <c>Licensing</c> metadata checked at load.</summary>
    internal static IServiceCollection AddSeatLicensingProxy(this IServiceCollection services, IConfigurationSection reverseProxy)
    {
        services.TryAddSingleton<RouteLicensingModes>();
        services.TryAddSingleton<ManagementPath>();
        services.TryAddSingleton<IdentityResolver>();
        services.AddReverseProxy()
            .LoadFromConfig(reverseProxy)
            .AddConfigFilter<LicensingRouteConfigFilter>();
        return services;
    }
}
