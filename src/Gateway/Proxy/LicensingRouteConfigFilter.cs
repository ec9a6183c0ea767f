using Yarp.ReverseProxy.Configuration;

namespace Gateway.Proxy;

/// <summary>
/// Parses each route's <c>Licensing</c> metadata when YARP loads the configuration. An invalid value
/// makes YARP refuse the configuration: the gateway does not start (or, on a reload, keeps the
/// previous configuration and logs the error naming the route).
/// </summary>
internal sealed class LicensingRouteConfigFilter(RouteLicensingModes modes) : IProxyConfigFilter
{
    public ValueTask<ClusterConfig> ConfigureClusterAsync(ClusterConfig cluster, CancellationToken cancel) => new(cluster);

    public ValueTask<RouteConfig> ConfigureRouteAsync(RouteConfig route, ClusterConfig? cluster, CancellationToken cancel)
    {
        modes.Remember(route, RouteLicensingModes.Parse(route));
        return new(route);
    }
}
