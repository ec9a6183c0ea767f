using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Configuration.ClusterValidators;
using Yarp.ReverseProxy.Configuration.RouteValidators;

namespace Gateway.Proxy;

/// <summary>
/// Checks the licensing metadata (<see cref="RouteLicensingMetadata"/>) of every route and cluster
/// YARP loads, beside YARP's own checks. An invalid value makes YARP refuse the configuration: the
/// gateway does not start, or, on a reload, keeps the previous configuration and logs the error
/// naming the route or cluster.
/// </summary>
internal sealed class LicensingMetadataValidator : IRouteValidator, IClusterValidator
{
    public ValueTask ValidateAsync(RouteConfig route, IList<Exception> errors)
    {
        if (RouteLicensingMetadata.ModeError(route) is { } mode) errors.Add(new ArgumentException(mode));
        if (RouteLicensingMetadata.TenantError(route) is { } tenant) errors.Add(new ArgumentException(tenant));
        return ValueTask.CompletedTask;
    }

    public ValueTask ValidateAsync(ClusterConfig cluster, IList<Exception> errors)
    {
        if (RouteLicensingMetadata.TenantError(cluster) is { } tenant) errors.Add(new ArgumentException(tenant));
        return ValueTask.CompletedTask;
    }
}
