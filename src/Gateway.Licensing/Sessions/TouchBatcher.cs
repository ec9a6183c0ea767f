using System.Collections.Concurrent;
using Gateway.Licensing.Options;
using Gateway.Licensing.Store;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Gateway.Licensing.Sessions;

/// <summary>
/// Refreshes the stored sliding expiry of locally admitted sessions in batches: one script call per
/// tenant per flush, calls for different tenants in flight together. A session the store no longer
/// holds (or holds as a later session with the same id) is forgotten locally, which also closes what is
/// still open on it.
/// </summary>
/// <remarks>
/// A touch is queued for any request made a touch interval or more after the last confirmation was
/// sent, and again after a touch's answer for a request made a touch interval or more after that
/// touch was sent: so the store's record of a session's use is never a touch interval or more older
/// than its last request (plus the flush delay), which is what lets the store keep a session exactly
/// IdleTimeout + TouchInterval after its recorded use (docs/sessions.md).
/// </remarks>
internal sealed partial class TouchBatcher : BackgroundService
{
    /// <summary>How long a queued touch may wait for its batch.</summary>
    public static readonly TimeSpan FlushInterval = TimeSpan.FromMilliseconds(50);

    private const int MaxBatch = 500;

    private readonly ConcurrentQueue<LocalSessionCache.Entry> _queue = new();
    private readonly LicenseStore _store;
    private readonly LocalSessionCache _cache;
    private readonly StoreHealth _health;
    private readonly TimeProvider _time;
    private readonly IOptionsMonitor<LicensingOptions> _options;
    private readonly ILogger<TouchBatcher> _logger;

    public TouchBatcher(LicenseStore store, LocalSessionCache cache, StoreHealth health, TimeProvider time, IOptionsMonitor<LicensingOptions> options, ILogger<TouchBatcher> logger)
    {
        _options = options;
        _store = store;
        _cache = cache;
        _health = health;
        _time = time;
        _logger = logger;
    }

    /// <summary>Queues a touch of the session unless one is queued or in flight already.</summary>
    public void Enqueue(LocalSessionCache.Entry entry)
    {
        if (Interlocked.CompareExchange(ref entry.TouchQueued, 1, 0) == 0) _queue.Enqueue(entry);
    }

    public int Pending => _queue.Count;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(FlushInterval, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                await FlushAsync().ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>Sends every queued touch now.</summary>
    public async Task FlushAsync()
    {
        if (_queue.IsEmpty) return;
        var byTenant = new Dictionary<string, List<LocalSessionCache.Entry>>(StringComparer.Ordinal);
        while (_queue.TryDequeue(out var entry))
        {
            if (entry.IsEnded)
            {
                Volatile.Write(ref entry.TouchQueued, 0);
                continue;
            }
            if (!byTenant.TryGetValue(entry.Tenant, out var list)) byTenant[entry.Tenant] = list = [];
            list.Add(entry);
        }

        var calls = new List<Task>();
        foreach (var (tenant, items) in byTenant)
        {
            for (var i = 0; i < items.Count; i += MaxBatch)
            {
                calls.Add(TouchAsync(tenant, items.GetRange(i, Math.Min(MaxBatch, items.Count - i))));
            }
        }
        await Task.WhenAll(calls).ConfigureAwait(false);
    }

    private async Task TouchAsync(string tenant, List<LocalSessionCache.Entry> items)
    {
        var sentAt = _time.GetTimestamp();
        try
        {
            var result = await _store.TouchAsync(tenant, items.ConvertAll(e => (e.SessionId, e.StartedMs))).ConfigureAwait(false);
            _health.ReportSuccess();
            var missing = result.MissingSessionIds.Count == 0 ? null : new HashSet<string>(result.MissingSessionIds, StringComparer.Ordinal);
            var touchInterval = _options.CurrentValue.EffectiveTouchInterval;
            foreach (var entry in items)
            {
                if (missing?.Contains(entry.SessionId) == true)
                {
                    _cache.Forget(entry.SessionId, entry);
                    Volatile.Write(ref entry.TouchQueued, 0);
                    continue;
                }
                if (sentAt > Volatile.Read(ref entry.ConfirmedAt)) Volatile.Write(ref entry.ConfirmedAt, sentAt);
                Volatile.Write(ref entry.TouchQueued, 0);
                // A request made a touch interval or more after this touch was sent found it in flight and
                // could not queue its own: queue it now.
                if (_time.GetElapsedTime(sentAt, Volatile.Read(ref entry.LastRequestAt)) >= touchInterval) Enqueue(entry);
            }
            LogTouched(tenant, items.Count, result.MissingSessionIds.Count);
        }
        catch (StoreUnavailableException ex)
        {
            _health.ReportFailure();
            foreach (var entry in items) Volatile.Write(ref entry.TouchQueued, 0);
            LogTouchFailed(tenant, ex);
        }
    }

    [LoggerMessage(EventId = 1070, Level = LogLevel.Debug, Message = "Touched {Count} sessions of tenant {Tenant}; {Missing} were gone")]
    private partial void LogTouched(string tenant, int count, int missing);

    [LoggerMessage(EventId = 1071, Level = LogLevel.Warning, Message = "Could not refresh sessions of tenant {Tenant}")]
    private partial void LogTouchFailed(string tenant, Exception exception);
}
