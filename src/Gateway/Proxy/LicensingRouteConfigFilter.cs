using Yarp.ReverseProxy.Configuration;

namespace Gateway.Proxy;

/// <summary>
/// Parses each route's <c>Licensing</c> and <c>LicensingTenant</c> metadata (the latter also on its
/// cluster) when YARP loads the configuration. An invalid value
/// makes YARP refuse the configuration: the gateway does not start (or, on a reload, keeps the
/// previous configuration and logs the error naming the route). Clusters forward request headers
/// in UTF-8 unless they say otherwise (see <see cref="ConfigureClusterAsync"/>).
/// </summary>
internal sealed class LicensingRouteConfigFilter(RouteLicensingModes modes) : IProxyConfigFilter
{
    /// <summary>The encoding of forwarded request headers when a cluster sets none: what Kestrel decodes them with.</summary>
    public const string DefaultRequestHeaderEncoding = "utf-8";

    /// <summary>
    /// Kestrel accepts UTF-8 in request header values, but YARP's client sends ASCII only by default:
    /// a request with, say, a UTF-8 cookie was accepted and then failed upstream with 502. Unless
    /// the cluster sets <c>HttpClient:RequestHeaderEncoding</c> itself, headers are forwarded in
    /// UTF-8, byte for byte as the client sent them (traffic is forwarded unchanged).
    /// </summary>
    public ValueTask<ClusterConfig> ConfigureClusterAsync(ClusterConfig cluster, CancellationToken cancel)
    {
        if (!string.IsNullOrEmpty(cluster.HttpClient?.RequestHeaderEncoding)) return new(cluster);
        return new(cluster with
        {
            HttpClient = (cluster.HttpClient ?? new HttpClientConfig()) with { RequestHeaderEncoding = DefaultRequestHeaderEncoding },
        });
    }

    public ValueTask<RouteConfig> ConfigureRouteAsync(RouteConfig route, ClusterConfig? cluster, CancellationToken cancel)
    {
        modes.Remember(route, RouteLicensingModes.Parse(route), RouteLicensingModes.ParseTenant(route, cluster));
        return new(route);
    }
}
