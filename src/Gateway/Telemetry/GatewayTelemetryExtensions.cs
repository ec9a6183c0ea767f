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
    /// <summary>
    /// OpenTelemetry: the <c>Gateway.Licensing</c> meter plus ASP.NET Core and HttpClient (YARP)
    /// metrics, served as Prometheus text at <c>{ManagementPath}/metrics</c>; traces of admissions,
    /// ASP.NET Core, the proxied calls and Redis. Both go out over OTLP when the standard
    /// <c>OTEL_EXPORTER_OTLP_*</c> variables are set. Traces are collected only then: without an
    /// exporter they would cost every request for nothing.
    /// </summary>
    public static IServiceCollection AddGatewayTelemetry(this IServiceCollection services, IConfiguration configuration)
    {
        var otlp = !string.IsNullOrWhiteSpace(configuration["OTEL_EXPORTER_OTLP_ENDPOINT"])
            || !string.IsNullOrWhiteSpace(configuration["OTEL_EXPORTER_OTLP_METRICS_ENDPOINT"])
            || !string.IsNullOrWhiteSpace(configuration["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"]);

        var telemetry = services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService("seat-gateway"))
            .WithMetrics(metrics => metrics
                .AddMeter(LicensingMetrics.MeterName)
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
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
