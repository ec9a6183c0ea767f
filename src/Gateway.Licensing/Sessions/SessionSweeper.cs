using Gateway.Licensing.Options;
using Gateway.Licensing.Store;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Gateway.Licensing.Sessions;

/// <summary>
/// Ends expired sessions of every registered tenant at <see cref="LicensingOptions.SweepInterval"/>,
/// so counts and gauges are right without traffic, and drops local entries nobody used for an idle
/// timeout. Each replica sweeps; the scripts make a second sweep of the same tenant a no-op.
/// </summary>
public sealed partial class SessionSweeper : BackgroundService
{
    private readonly LicenseStore _store;
    private readonly LocalSessionCache _cache;
    private readonly IOptionsMonitor<LicensingOptions> _options;
    private readonly TimeProvider _time;
    private readonly ILogger<SessionSweeper> _logger;

    public SessionSweeper(LicenseStore store, LocalSessionCache cache, IOptionsMonitor<LicensingOptions> options, TimeProvider time, ILogger<SessionSweeper> logger)
    {
        _store = store;
        _cache = cache;
        _options = options;
        _time = time;
        _logger = logger;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(_options.CurrentValue.SweepInterval, _time, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            await SweepOnceAsync().ConfigureAwait(false);
        }
    }

    /// <summary>One pass over every tenant.</summary>
    public async Task SweepOnceAsync()
    {
        var idleTicks = (long)(_options.CurrentValue.IdleTimeout.TotalSeconds * _time.TimestampFrequency);
        var now = _time.GetTimestamp();
        _cache.RemoveIdle(now, idleTicks);
        _cache.RemoveTombstones(now - (long)(LocalSessionCache.TombstoneLifetime.TotalSeconds * _time.TimestampFrequency));
        try
        {
            foreach (var tenant in await _store.ListTenantsAsync().ConfigureAwait(false))
            {
                var result = await _store.SweepAsync(tenant).ConfigureAwait(false);
                if (result.EndedSessionIds.Count > 0) LogSwept(tenant, result.EndedSessionIds.Count);
            }
        }
        catch (StoreUnavailableException ex)
        {
            LogSweepFailed(ex);
        }
    }

    [LoggerMessage(EventId = 1040, Level = LogLevel.Debug, Message = "Sweep ended {Count} expired sessions of tenant {Tenant}")]
    private partial void LogSwept(string tenant, int count);

    [LoggerMessage(EventId = 1041, Level = LogLevel.Debug, Message = "Sweep skipped: the licensing store is unavailable")]
    private partial void LogSweepFailed(Exception exception);
}
