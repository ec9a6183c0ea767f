using System.Reflection;
using Gateway.Licensing.Options;
using Gateway.Licensing.Telemetry;
using Gateway.Management;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Gateway.Telemetry;

internal static class GatewayTelemetryExtensions
{
    /// <summary><c>service.name</c> unless <c>OTEL_SERVICE_NAME</c> or <c>OTEL_RESOURCE_ATTRIBUTES</c> says otherwise.</summary>
    public const string ServiceName = "seat-gateway";

    /// <summary><c>service.version</c>: the product's version (the assembly's informational version, without build metadata).</summary>
    public static readonly string ProductVersion =
        (typeof(GatewayTelemetryExtensions).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0")
        .Split('+')[0];

    /// <summary>Meters of ASP.NET Core and System.Net.Http whose metrics the shipped dashboard and alerts use.</summary>
    private static readonly string[] StandardMeters =
    [
        "Microsoft.AspNetCore.Hosting",       // http.server.request.duration, http.server.active_requests
        "Microsoft.AspNetCore.Server.Kestrel", // kestrel.active_connections, kestrel.connection.duration
        "System.Net.Http",                     // http.client.request.duration, http.client.connection.duration
    ];

    /// <summary>
    /// Instruments of those meters left off: each costs every proxied request several up/down
    /// updates (a pooled connection goes idle → active → idle per request), and the backends' side is
    /// already read from <c>http.client.request.duration</c>. The profile of an admitted session
    /// showed these updates as the largest cost the gateway adds to plain YARP.
    /// </summary>
    private static readonly string[] DroppedInstruments =
    [
        "http.client.open_connections",
        "http.client.active_requests",
        "http.client.request.time_in_queue",
    ];

    /// <summary>
    /// OpenTelemetry: the <c>Gateway.Licensing</c> meter plus ASP.NET Core and HttpClient (YARP)
    /// metrics, served as Prometheus text at <c>{ManagementPath}/metrics</c>; traces of admissions,
    /// ASP.NET Core, the proxied calls and Redis. Both go out over OTLP when the standard
    /// <c>OTEL_EXPORTER_OTLP_*</c> variables are set. Traces are collected only then: without an
    /// exporter they would cost every request for nothing. The standard meters are named one by one
    /// rather than through the instrumentation packages' metrics helpers: those also enable the
    /// routing, authentication and authorization meters and add a middleware, each a cost on every
    /// proxied request that no dashboard reads.
    /// </summary>
    public static IServiceCollection AddGatewayTelemetry(this IServiceCollection services, IConfiguration configuration)
    {
        var otlp = !string.IsNullOrWhiteSpace(configuration["OTEL_EXPORTER_OTLP_ENDPOINT"])
            || !string.IsNullOrWhiteSpace(configuration["OTEL_EXPORTER_OTLP_METRICS_ENDPOINT"])
            || !string.IsNullOrWhiteSpace(configuration["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"]);

        var telemetry = services.AddOpenTelemetry()
            // The built-in name and the product's version first, then OTEL_RESOURCE_ATTRIBUTES and
            // OTEL_SERVICE_NAME (environment or configuration), which win: a later detector overrides.
            .ConfigureResource(resource => resource
                .AddService(ServiceName, serviceVersion: ProductVersion)
                .AddEnvironmentVariableDetector())
            .WithMetrics(metrics => metrics
                .AddMeter(LicensingMetrics.MeterName)
                .AddMeter(StandardMeters)
                .DropInstruments(DroppedInstruments)
                .AddPrometheusExporter());

        if (otlp)
        {
            telemetry
                .WithTracing(tracing => tracing
                    .AddSource(LicensingMetrics.ActivitySourceName)
                    .AddSource("Yarp.ReverseProxy")
                    .AddAspNetCoreInstrumentation()
                    .AddHttpClientInstrumentation()
                    .AddRedisInstrumentation())
                .UseOtlpExporter();
        }
        return services;
    }

    private static MeterProviderBuilder DropInstruments(this MeterProviderBuilder metrics, string[] names)
    {
        foreach (var name in names) metrics.AddView(name, MetricStreamConfiguration.Drop);
        return metrics;
    }

    /// <summary>
    /// <c>GET {ManagementPath}/metrics</c> (Prometheus text) unless <c>Licensing:Metrics:Expose</c> is
    /// false; only on <c>Licensing:ManagementPort</c> when that is set.
    /// </summary>
    public static IEndpointRouteBuilder MapGatewayMetrics(this IEndpointRouteBuilder endpoints, LicensingOptions options)
    {
        if (!options.Metrics.Expose) return endpoints;
        endpoints.MapPrometheusScrapingEndpoint(options.ManagementPath + "/metrics").RequireManagementPort();
        return endpoints;
    }
}
