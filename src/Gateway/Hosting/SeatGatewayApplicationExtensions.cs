using Gateway.Licensing.Options;
using Gateway.Management;
using Gateway.Proxy;
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
        var managementPath = app.Services.GetRequiredService<IOptions<LicensingOptions>>().Value.ManagementPath;

        app.UseForwardedHeaders();
        app.UseRouting();
        app.UseAuthentication();
        app.UseAuthorization();

        app.MapSeatGatewayManagement(managementPath);

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
    private static void MapSeatGatewayManagement(this WebApplication app, string managementPath)
    {
        app.MapGatewayHealthChecks(managementPath);

        // The management API (branch `mgmt`) is mapped here, before the fallback:
        //   app.MapLicensingManagementApi(managementPath);
        //   app.MapLicensingOpenApi(managementPath);
        // with its services in AddSeatGateway (see there).

        app.MapManagementFallback(managementPath);
    }
}
