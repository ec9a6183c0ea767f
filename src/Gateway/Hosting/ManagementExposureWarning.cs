using Gateway.Licensing.Options;

namespace Gateway.Hosting;

/// <summary>
/// The metrics name every tenant (up to <c>Licensing:Metrics:MaxTenants</c>) and the OpenAPI document
/// describes the management API: served on a public port, anyone can read them. The gateway still
/// serves them there (a single-port deployment behind a private network is legitimate), but says so
/// at start, naming the settings that change it.
/// </summary>
internal static partial class ManagementExposureWarning
{
    public static void WarnWhenServedPublicly(this WebApplication app, LicensingOptions options)
    {
        if (options.ManagementPort is not null || !(options.Metrics.Expose || options.OpenApi.Expose)) return;
        var what = (options.Metrics.Expose, options.OpenApi.Expose) switch
        {
            (true, true) => "Metrics and the OpenAPI document are",
            (true, false) => "Metrics are",
            _ => "The OpenAPI document is",
        };
        LogServedPublicly(app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(ManagementExposureWarning).FullName!), what, options.ManagementPath);
    }

    [LoggerMessage(EventId = 2070, Level = LogLevel.Warning, Message = "{What} served under {ManagementPath} on every port, to anyone: they name the tenants. Set Licensing:ManagementPort to a port only operators reach (and listen on it), or turn them off with Licensing:Metrics:Expose / Licensing:OpenApi:Expose = false")]
    private static partial void LogServedPublicly(ILogger logger, string what, string managementPath);
}
