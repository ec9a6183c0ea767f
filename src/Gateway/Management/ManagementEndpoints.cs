using Gateway.Problems;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;

namespace Gateway.Management;

/// <summary>Routes the gateway answers itself, all under <c>Licensing:ManagementPath</c>. None takes a seat.</summary>
internal static class ManagementEndpoints
{
    public const string ReadyTag = "ready";
    private static readonly string[] ReadMethods = [HttpMethods.Get, HttpMethods.Head];

    public static IServiceCollection AddGatewayHealthChecks(this IServiceCollection services)
    {
        services.AddHealthChecks().AddCheck<StoreReadinessHealthCheck>(StoreReadinessHealthCheck.Name, tags: [ReadyTag]);
        return services;
    }

    /// <summary><c>GET {path}/healthz</c>: 200 while the process runs (no check). <c>GET {path}/readyz</c>: the readiness checks (store PING).</summary>
    public static IEndpointRouteBuilder MapGatewayHealthChecks(this IEndpointRouteBuilder endpoints, string managementPath)
    {
        endpoints.MapHealthChecks(managementPath + "/healthz", new HealthCheckOptions { Predicate = static _ => false })
            .WithMetadata(new HttpMethodMetadata(ReadMethods))
            .WithDisplayName("Licensing liveness");
        endpoints.MapHealthChecks(managementPath + "/readyz", new HealthCheckOptions { Predicate = static check => check.Tags.Contains(ReadyTag) })
            .WithMetadata(new HttpMethodMetadata(ReadMethods))
            .WithDisplayName("Licensing readiness");
        return endpoints;
    }

    /// <summary>
    /// <c>{path}/{**rest}</c>: 404 problem+json (<c>code: not-found</c>) for anything else under the
    /// management path, so it is never forwarded. Map it after every other management route.
    /// </summary>
    public static IEndpointRouteBuilder MapManagementFallback(this IEndpointRouteBuilder endpoints, string managementPath)
    {
        endpoints.Map(managementPath + "/{**rest}", static context => LicensingProblems.NotFound(context))
            .WithDisplayName("Licensing management fallback");
        return endpoints;
    }
}
