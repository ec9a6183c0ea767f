using System.Text.Json;

namespace Gateway.Development;

/// <summary>
/// A stand-in for the ERP backend, for the Development demo only: it answers every request with
/// what it received (path and the licensing headers the gateway added), so a newcomer sees what
/// the backend gets. Never registered outside Development.
/// </summary>
internal sealed partial class DemoBackend : IHostedService, IAsyncDisposable
{
    private readonly DemoOptions _options;
    private readonly ILogger<DemoBackend> _logger;
    private WebApplication? _app;

    public DemoBackend(DemoOptions options, ILogger<DemoBackend> logger)
    {
        _options = options;
        _logger = logger;
    }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls(_options.BackendUrl);
        builder.Logging.ClearProviders();
        var app = builder.Build();
        app.Map("/{**path}", (HttpContext context) =>
        {
            var request = context.Request;
            var body = new Dictionary<string, object?>
            {
                ["backend"] = "stand-in ERP (Development demo)",
                ["method"] = request.Method,
                ["path"] = request.Path.Value,
                ["licensingSession"] = request.Headers["X-Licensing-Session"].ToString(),
                ["licensingTenant"] = request.Headers["X-Licensing-Tenant"].ToString(),
            };
            return Results.Text(JsonSerializer.Serialize(body) + "\n", "application/json");
        });
        try
        {
            await app.StartAsync(cancellationToken);
            _app = app;
            LogStarted(_options.BackendUrl);
        }
        catch (IOException ex)
        {
            LogCouldNotStart(_options.BackendUrl, ex);
            await app.DisposeAsync();
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_app is not null) await _app.StopAsync(cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null) await _app.DisposeAsync();
    }

    [LoggerMessage(EventId = 2900, Level = LogLevel.Information, Message = "Demo: stand-in ERP backend listening on {Url}")]
    private partial void LogStarted(string url);

    [LoggerMessage(EventId = 2901, Level = LogLevel.Error, Message = "Demo: could not start the stand-in ERP backend on {Url}; is the port taken?")]
    private partial void LogCouldNotStart(string url, Exception exception);
}
