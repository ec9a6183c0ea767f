using System.Collections.Concurrent;
using Gateway.Licensing.Store;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Gateway.Licensing.Sessions;

/// <summary>
/// Refreshes the stored sliding expiry of locally admitted sessions in batches: one script call per
/// tenant per flush, calls for different tenants in flight together. A session the store no longer
/// holds is forgotten locally, which also bounds how long a lost revocation message can go unseen.
/// </summary>
public sealed partial class TouchBatcher : BackgroundService
{
    /// <summary>How long a queued touch may wait for its batch.</summary>
    public static readonly TimeSpan FlushInterval = TimeSpan.FromMilliseconds(50);

    private const int MaxBatch = 500;

    private readonly ConcurrentQueue<(string SessionId, LocalSessionCache.Entry Entry)> _queue = new();
    private readonly LicenseStore _store;
    private readonly LocalSessionCache _cache;
    private readonly StoreHealth _health;
    private readonly TimeProvider _time;
    private readonly ILogger<TouchBatcher> _logger;

    public TouchBatcher(LicenseStore store, LocalSessionCache cache, StoreHealth health, TimeProvider time, ILogger<TouchBatcher> logger)
    {
        _store = store;
        _cache = cache;
        _health = health;
        _time = time;
        _logger = logger;
    }

    /// <summary>Queues a touch of the session unless one is queued already.</summary>
    public void Enqueue(string sessionId, LocalSessionCache.Entry entry)
    {
        if (Interlocked.CompareExchange(ref entry.TouchQueued, 1, 0) == 0) _queue.Enqueue((sessionId, entry));
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
        var byTenant = new Dictionary<string, List<(string SessionId, LocalSessionCache.Entry Entry)>>(StringComparer.Ordinal);
        while (_queue.TryDequeue(out var item))
        {
            if (!byTenant.TryGetValue(item.Entry.Tenant, out var list)) byTenant[item.Entry.Tenant] = list = [];
            list.Add(item);
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

    private async Task TouchAsync(string tenant, List<(string SessionId, LocalSessionCache.Entry Entry)> items)
    {
        var sentAt = _time.GetTimestamp();
        try
        {
            var result = await _store.TouchAsync(tenant, items.ConvertAll(i => i.SessionId)).ConfigureAwait(false);
            _health.ReportSuccess();
            var missing = result.MissingSessionIds.Count == 0 ? null : new HashSet<string>(result.MissingSessionIds, StringComparer.Ordinal);
            foreach (var (sessionId, entry) in items)
            {
                if (missing?.Contains(sessionId) == true)
                {
                    _cache.Forget(sessionId);
                }
                else
                {
                    Volatile.Write(ref entry.ConfirmedAt, sentAt);
                }
                Volatile.Write(ref entry.TouchQueued, 0);
            }
            LogTouched(tenant, items.Count, result.MissingSessionIds.Count);
        }
        catch (StoreUnavailableException ex)
        {
            _health.ReportFailure();
            foreach (var (_, entry) in items) Volatile.Write(ref entry.TouchQueued, 0);
            LogTouchFailed(tenant, ex);
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Touched {Count} sessions of tenant {Tenant}; {Missing} were gone")]
    private partial void LogTouched(string tenant, int count, int missing);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not refresh sessions of tenant {Tenant}")]
    private partial void LogTouchFailed(string tenant, Exception exception);
}
