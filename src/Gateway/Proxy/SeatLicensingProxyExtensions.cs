using Gateway.Identity;
using Gateway.Management;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Yarp.ReverseProxy.Configuration.ClusterValidators;
using Yarp.ReverseProxy.Configuration.RouteValidators;

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

    /// <summary>
    /// Puts each route's licensing (its <c>Licensing</c> and <c>LicensingTenant</c> metadata, parsed)
    /// on the route's endpoint, where the licensing step reads it. YARP builds a route's endpoint when
    /// the route or its cluster changes, so the metadata is parsed once per configuration, not per request.
    /// </summary>
    public static ReverseProxyConventionBuilder WithRouteLicensing(this ReverseProxyConventionBuilder endpoints) =>
        endpoints.ConfigureEndpoints((endpoint, route, cluster) => endpoint.WithMetadata(RouteLicensingMetadata.Parse(route, cluster)));

    /// <summary>YARP from the <c>ReverseProxy</c> section, with the licensing metadata of routes and clusters checked at load.</summary>
    internal static IServiceCollection AddSeatLicensingProxy(this IServiceCollection services, IConfigurationSection reverseProxy)
    {
        services.TryAddSingleton<ManagementPath>();
        services.TryAddSingleton<IdentityResolver>();
        services.TryAddSingleton<ISessionAdmitter, EngineSessionAdmitter>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IRouteValidator, LicensingMetadataValidator>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IClusterValidator, LicensingMetadataValidator>());
        services.AddReverseProxy()
            .LoadFromConfig(reverseProxy)
            .AddConfigFilter<Utf8RequestHeadersFilter>();
        return services;
    }
}
