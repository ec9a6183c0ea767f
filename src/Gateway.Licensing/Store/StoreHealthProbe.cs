using Gateway.Licensing.Options;
using Gateway.Licensing.Rules;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Gateway.Licensing.Store;

/// <summary>
/// Pings the store twice a second. A failed ping marks it unavailable, so the outage policy applies
/// even when only locally remembered sessions are in traffic (they make no store calls: without the
/// probe, <c>FailClosed</c> kept forwarding them until a touch or a new session failed, up to a
/// <c>TouchInterval</c>, a minute by default, later). A ping that answers while the store is marked unavailable marks it available, so admission
/// resumes by itself when the store returns.
/// </summary>
internal sealed partial class StoreHealthProbe : BackgroundService
{
    public static readonly TimeSpan ProbeInterval = TimeSpan.FromMilliseconds(500);

    private readonly LicenseStore _store;
    private readonly StoreHealth _health;
    private readonly TimeProvider _time;
    private readonly IOptionsMonitor<LicensingOptions> _options;
    private readonly ILogger<StoreHealthProbe> _logger;

    public StoreHealthProbe(LicenseStore store, StoreHealth health, TimeProvider time, IOptionsMonitor<LicensingOptions> options, ILogger<StoreHealthProbe> logger)
    {
        _store = store;
        _health = health;
        _options = options;
        _time = time;
        _logger = logger;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(ProbeInterval, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                if (await _store.PingAsync().ConfigureAwait(false))
                {
                    if (_health.ReportSuccess()) LogRecovered();
                }
                else if (_health.ReportFailure())
                {
                    LogUnavailable(_options.CurrentValue.StoreUnavailable);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    [LoggerMessage(EventId = 1060, Level = LogLevel.Warning, Message = "The licensing store does not answer; applying the outage policy {Policy}")]
    private partial void LogUnavailable(StoreUnavailableBehavior policy);

    [LoggerMessage(EventId = 1061, Level = LogLevel.Information, Message = "The licensing store answers again; admission resumes")]
    private partial void LogRecovered();
}
