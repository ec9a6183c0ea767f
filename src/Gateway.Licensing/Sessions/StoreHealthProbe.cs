using Gateway.Licensing.Store;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Gateway.Licensing.Sessions;

/// <summary>
/// While the store is marked unavailable, pings it twice a second, so admission resumes by itself
/// when it returns even if only locally remembered sessions are in traffic (they make no store calls).
/// </summary>
public sealed partial class StoreHealthProbe : BackgroundService
{
    public static readonly TimeSpan ProbeInterval = TimeSpan.FromMilliseconds(500);

    private readonly LicenseStore _store;
    private readonly StoreHealth _health;
    private readonly TimeProvider _time;
    private readonly ILogger<StoreHealthProbe> _logger;

    public StoreHealthProbe(LicenseStore store, StoreHealth health, TimeProvider time, ILogger<StoreHealthProbe> logger)
    {
        _store = store;
        _health = health;
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
                if (_health.IsUnavailable && await _store.PingAsync().ConfigureAwait(false) && _health.ReportSuccess())
                {
                    LogRecovered();
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "The licensing store answers again; admission resumes")]
    private partial void LogRecovered();
}
