using Gateway.Licensing.Options;
using Gateway.Management;
using Gateway.Proxy;
using Gateway.Telemetry;
using Microsoft.Extensions.Options;

namespace Gateway.Hosting;

public static class SeatGatewayApplicationExtensions
{
    /// <summary>
    /// The request pipeline: forwarded headers (client address for fingerprints), routing,
    /// authentication, authorization, the gateway's own routes under <c>Licensing:ManagementPath</c>,
    /// then YARP with the licensing step first in its pipeline.
    /// </summary>
    public static WebApplication UseSeatGateway(this WebApplication app)
    {
        // Reading the options validates them: a bad value stops here, naming the key.
        var options = app.Services.GetRequiredService<IOptions<LicensingOptions>>().Value;

        app.UseForwardedHeaders();
        app.UseRouting();
        app.UseAuthentication();
        app.UseAuthorization();

        app.MapSeatGatewayManagement(options);

        app.MapReverseProxy(proxy =>
        {
            proxy.UseSeatLicensing();
            proxy.UseSessionAffinity();
            proxy.UseLoadBalancing();
            proxy.UsePassiveHealthChecks();
        });
        return app;
    }

    /// <summary>Everything the gateway answers itself (SPEC §6).</summary>
    private static void MapSeatGatewayManagement(this WebApplication app, LicensingOptions options)
    {
        var managementPath = options.ManagementPath;
        app.MapGatewayHealthChecks(managementPath);
        app.MapGatewayMetrics(options);

        // The management API (/v1/tenants/..., /v1/me/...) and its OpenAPI document (unless
        // Licensing:OpenApi:Expose is false), before the fallback.
        app.MapLicensingManagementApi(managementPath);
        if (options.OpenApi.Expose) app.MapLicensingOpenApi(managementPath);

        app.MapManagementFallback(managementPath);
    }
}
