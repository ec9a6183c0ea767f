using Yarp.ReverseProxy.Configuration;

namespace Gateway.Proxy;

/// <summary>
/// Kestrel accepts UTF-8 in request header values, but YARP's client sends ASCII only by default:
/// a request with, say, a UTF-8 cookie was accepted and then failed upstream with 502. Unless a
/// cluster sets <c>HttpClient:RequestHeaderEncoding</c> itself, its request headers are forwarded in
/// UTF-8, byte for byte as the client sent them (traffic is forwarded unchanged).
/// </summary>
internal sealed class Utf8RequestHeadersFilter : IProxyConfigFilter
{
    /// <summary>The encoding of forwarded request headers when a cluster sets none: what Kestrel decodes them with.</summary>
    public const string DefaultRequestHeaderEncoding = "utf-8";

    public ValueTask<ClusterConfig> ConfigureClusterAsync(ClusterConfig cluster, CancellationToken cancel)
    {
        if (!string.IsNullOrEmpty(cluster.HttpClient?.RequestHeaderEncoding)) return new(cluster);
        return new(cluster with
        {
            HttpClient = (cluster.HttpClient ?? new HttpClientConfig()) with { RequestHeaderEncoding = DefaultRequestHeaderEncoding },
        });
    }

    public ValueTask<RouteConfig> ConfigureRouteAsync(RouteConfig route, ClusterConfig? cluster, CancellationToken cancel) => new(route);
}
