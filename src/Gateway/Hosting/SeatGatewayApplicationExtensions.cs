using Gateway.Identity;
using Gateway.Licensing.Options;
using Gateway.Management;
using Gateway.Problems;
using Gateway.Proxy;
using Gateway.RoutePolicies;
using Gateway.SeatConsole;
using Gateway.Telemetry;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Options;

namespace Gateway.Hosting;

public static class SeatGatewayApplicationExtensions
{
    /// <summary>
    /// The request pipeline: forwarded headers (from trusted proxies only), the refusal of paths a backend
    /// could read differently (400 <c>invalid-path</c>), routing,
    /// authentication and authorization (for the gateway's own routes), the gateway's own routes under
    /// <c>Licensing:ManagementPath</c>, then YARP with the licensing step first in its pipeline.
    /// </summary>
    public static WebApplication UseSeatGateway(this WebApplication app)
    {
        // Reading the options validates them: a bad value stops here, naming the key.
        var options = app.Services.GetRequiredService<IOptions<LicensingOptions>>().Value;
        app.WarnWhenServedPublicly(options);

        app.UseGatewayForwardedHeaders();
        app.UseMiddleware<AmbiguousPathMiddleware>(); // before routing: routing must not read a path the backend reads otherwise
        app.UseRouting();
        // A route's CorsPolicy, AuthorizationPolicy, RateLimiterPolicy, Timeout/TimeoutPolicy and
        // OutputCachePolicy, in the order YARP and ASP.NET Core require; each middleware runs only for
        // the routes that use its feature.
        app.UseRouteCors();
        // Reading the console's options validates them too.
        var console = app.Services.GetRequiredService<IOptions<SeatConsoleOptions>>().Value;
        if (console.Enabled) app.UseSeatConsole(options);
        app.UseGatewayAuthorization(app.Services.GetRequiredService<ManagementPath>());
        app.UseRouteLimitsAndCaching();
        // Innermost, so it sees the route's request timeout while it is in force.
        app.UseMiddleware<GatewayAnswersMiddleware>();

        app.MapSeatGatewayManagement(options, console);

        app.MapReverseProxy(proxy =>
        {
            proxy.UseSeatLicensing();
            proxy.UseSessionAffinity();
            proxy.UseLoadBalancing();
            proxy.UsePassiveHealthChecks();
        }).WithRouteLicensing();
        return app;
    }

    /// <summary>
    /// Authentication and authorization for the gateway's own routes, and for a proxy route only when
    /// its config asks for an <c>AuthorizationPolicy</c>. The licensing step authenticates the proxied
    /// requests that need it (<c>Enforce</c>/<c>Release</c> routes), from the token cache when it can:
    /// running JwtBearer for every request here would cost each proxied request a handler run even
    /// when its token is cached, and every <c>Off</c> route a token check it does not want.
    /// </summary>
    private static void UseGatewayAuthorization(this WebApplication app, ManagementPath managementPath)
    {
        app.UseWhen(context => managementPath.Contains(context.Request.Path) || HasAuthorizationMetadata(context.GetEndpoint()), branch =>
        {
            branch.UseAuthentication();
            branch.UseAuthorization();
        });
        // WebApplication adds both middlewares to the start of the pipeline unless the app added them
        // itself; the branch's flags stay in the branch, so the app's own flags are set here. Pinned
        // by ProxyAuthenticationTests (the bearer handler never runs for a cached token).
        var properties = ((IApplicationBuilder)app).Properties;
        properties["__AuthenticationMiddlewareSet"] = true;
        properties["__AuthorizationMiddlewareSet"] = true;
    }

    /// <summary>What <c>AuthorizationMiddleware</c> itself looks for on an endpoint.</summary>
    private static bool HasAuthorizationMetadata(Endpoint? endpoint) =>
        endpoint is not null
        && (endpoint.Metadata.GetMetadata<IAuthorizeData>() is not null
            || endpoint.Metadata.GetMetadata<AuthorizationPolicy>() is not null
            || endpoint.Metadata.GetMetadata<IAuthorizationRequirementData>() is not null);

    /// <summary>Everything the gateway answers itself, under <c>Licensing:ManagementPath</c>.</summary>
    private static void MapSeatGatewayManagement(this WebApplication app, LicensingOptions options, SeatConsoleOptions console)
    {
        var managementPath = options.ManagementPath;
        app.MapGatewayHealthChecks(managementPath);
        app.MapGatewayMetrics(options);

        // The management API (/v1/tenants/..., /v1/me/...) and its OpenAPI document (unless
        // Licensing:OpenApi:Expose is false), before the fallback.
        app.MapLicensingManagementApi(managementPath);
        if (options.OpenApi.Expose) app.MapLicensingOpenApi(managementPath);
        // The seat console: its sign-in, /me and its copy of the API, and its page (Licensing:Console:Enabled).
        if (console.Enabled)
        {
            app.MapSeatConsole(options);
            app.MapConsolePage(managementPath);
        }

        app.MapManagementFallback(managementPath);
    }
}
