using Gateway.Licensing.Options;
using Microsoft.AspNetCore.Routing.Matching;
using Microsoft.Extensions.Options;

namespace Gateway.Management;

/// <summary>Endpoint metadata: the endpoint is served only on <c>Licensing:ManagementPort</c> when that is set.</summary>
public sealed class ManagementPortOnlyMetadata
{
    public static readonly ManagementPortOnlyMetadata Instance = new();

    private ManagementPortOnlyMetadata() { }
}

/// <summary>
/// Routing policy behind <see cref="ManagementServiceCollectionExtensions.RequireManagementPort{TBuilder}"/>:
/// when <c>Licensing:ManagementPort</c> is set, endpoints marked <see cref="ManagementPortOnlyMetadata"/>
/// do not match a request that arrived on another local port, before authentication runs, so the
/// route answers as if it did not exist there (404). The connection's local port is checked, never
/// the Host header, which the client controls.
/// </summary>
internal sealed class ManagementPortMatcherPolicy(IOptionsMonitor<LicensingOptions> options) : MatcherPolicy, IEndpointSelectorPolicy
{
    // Before the HTTP method policy, so a wrong port is a 404 and never a 405.
    public override int Order => -1100;

    public bool AppliesToEndpoints(IReadOnlyList<Endpoint> endpoints) =>
        endpoints.Any(e => e.Metadata.GetMetadata<ManagementPortOnlyMetadata>() is not null);

    public Task ApplyAsync(HttpContext httpContext, CandidateSet candidates)
    {
        if (options.CurrentValue.ManagementPort is not { } port || httpContext.Connection.LocalPort == port) return Task.CompletedTask;
        for (var i = 0; i < candidates.Count; i++)
        {
            if (candidates[i].Endpoint.Metadata.GetMetadata<ManagementPortOnlyMetadata>() is not null) candidates.SetValidity(i, false);
        }
        return Task.CompletedTask;
    }
}
