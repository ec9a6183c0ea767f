using Gateway.Licensing.Options;
using Gateway.Licensing.Results;
using Gateway.Licensing.Store;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Gateway.Licensing.Sessions;

/// <summary>
/// Ends expired sessions in the background, so counts and gauges are right without traffic, and drops
/// local entries nobody used for an idle timeout. Each <see cref="LicensingOptions.SweepInterval"/> one
/// replica (the holder of a lease in the store) sweeps only the tenants the due index names as due;
/// every <see cref="FullSweepInterval"/> one replica sweeps every tenant, which repairs the index (see
/// docs/sessions.md, "The background sweep"). The scripts make a second sweep of a tenant a no-op.
/// </summary>
internal sealed partial class SessionSweeper : BackgroundService
{
    /// <summary>
    /// How often one replica sweeps every tenant, whatever the index says. It is the bound on how long a
    /// tenant whose index entry was lost (a connection dropped between a script and its index write, a
    /// replica stopped mid-sweep, a store failover) keeps expired sessions in its counts, and on how soon
    /// a shorter <see cref="LicensingOptions.IdleTimeout"/> reaches sessions indexed under the old one.
    /// Admissions and touches check expiry themselves, so such a session is never used past its time;
    /// only counts and gauges can lag. Five minutes costs one script per tenant per five minutes.
    /// </summary>
    public static readonly TimeSpan FullSweepInterval = TimeSpan.FromMinutes(5);

    /// <summary>Tenants taken out of the index and swept at once (pipelined).</summary>
    internal const int DueBatch = 100;

    // Bounds one pass when tenants keep coming due while it runs; the rest waits for the next interval.
    private const int MaxBatchesPerPass = 100;

    private readonly LicenseStore _store;
    private readonly LocalSessionCache _cache;
    private readonly IOptionsMonitor<LicensingOptions> _options;
    private readonly TimeProvider _time;
    private readonly ILogger<SessionSweeper> _logger;
    private readonly string _holder = $"{Environment.MachineName}:{Environment.ProcessId}:{Guid.NewGuid():N}";

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

    /// <summary>
    /// One interval's work: local housekeeping, then the due tenants if this replica gets the interval's
    /// lease, then every tenant if it gets the full pass's lease (at once on a store that has no lease
    /// yet, so a store written by an older version, without an index, is indexed at the first sweep).
    /// </summary>
    /// <returns>The due tenants swept, and the tenants of a full pass; null where another replica held the lease.</returns>
    public async Task<(int? DueTenants, int? AllTenants)> SweepOnceAsync()
    {
        int? due = null, all = null;
        var idleTicks = (long)(_options.CurrentValue.IdleTimeout.TotalSeconds * _time.TimestampFrequency);
        var now = _time.GetTimestamp();
        _cache.RemoveIdle(now, idleTicks);
        _cache.RemoveTombstones(now - (long)(LocalSessionCache.TombstoneLifetime.TotalSeconds * _time.TimestampFrequency));
        try
        {
            if (await _store.TryTakeLeaseAsync(TenantKeys.DueSweepLease, _options.CurrentValue.SweepInterval, _holder).ConfigureAwait(false))
            {
                due = await SweepDueAsync().ConfigureAwait(false);
            }
            if (await _store.TryTakeLeaseAsync(TenantKeys.FullSweepLease, FullSweepInterval, _holder).ConfigureAwait(false))
            {
                all = await SweepAllAsync().ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is StoreUnavailableException or RedisException)
        {
            // Also a store error such as READONLY from a demoted primary: the next interval tries again,
            // and the sweeper (a hosted service) must not stop the gateway.
            LogSweepFailed(ex);
        }
        return (due, all);
    }

    /// <summary>Sweeps the tenants the due index names as due now (store clock). Returns how many.</summary>
    public async Task<int> SweepDueAsync()
    {
        var nowMs = await _store.StoreTimeMsAsync().ConfigureAwait(false);
        var swept = 0;
        for (var batch = 0; batch < MaxBatchesPerPass; batch++)
        {
            var due = await _store.TakeDueTenantsAsync(nowMs, DueBatch).ConfigureAwait(false);
            if (due.Count == 0) break;
            await SweepAndScheduleAsync(due, retryAtMs: nowMs).ConfigureAwait(false);
            swept += due.Count;
            if (due.Count < DueBatch) break;
        }
        return swept;
    }

    /// <summary>
    /// Sweeps every tenant in the registry and puts each back in the due index at its next due time:
    /// the safety net for index entries that were lost. Returns how many tenants it swept.
    /// </summary>
    public async Task<int> SweepAllAsync()
    {
        var tenants = await _store.ListTenantsAsync().ConfigureAwait(false);
        for (var i = 0; i < tenants.Count; i += DueBatch)
        {
            await SweepAndScheduleAsync(tenants.Skip(i).Take(DueBatch).ToArray(), retryAtMs: null).ConfigureAwait(false);
        }
        LogFullSweep(tenants.Count);
        return tenants.Count;
    }

    private async Task SweepAndScheduleAsync(IReadOnlyList<string> tenants, long? retryAtMs)
    {
        var sweeps = tenants.Select(SweepOneAsync).ToArray();
        var results = await Task.WhenAll(sweeps).ConfigureAwait(false);
        var schedule = new List<(string, long)>(tenants.Count);
        StoreUnavailableException? failure = null;
        for (var i = 0; i < tenants.Count; i++)
        {
            switch (results[i])
            {
                case { Result.NextDueMs: { } next }:
                    schedule.Add((tenants[i], next));
                    break;
                case { Failure: { } f }:
                    failure = f;
                    // Taken out of the index but not swept: put back as due, so the next pass tries again.
                    if (retryAtMs is { } retry) schedule.Add((tenants[i], retry));
                    break;
            }
        }
        await _store.ScheduleAsync(schedule).ConfigureAwait(false);
        if (failure is not null) throw failure;
    }

    private async Task<(SweepResult? Result, StoreUnavailableException? Failure)> SweepOneAsync(string tenant)
    {
        try
        {
            var result = await _store.SweepAsync(tenant).ConfigureAwait(false);
            if (result.EndedSessionIds.Count > 0) LogSwept(tenant, result.EndedSessionIds.Count);
            return (result, null);
        }
        catch (StoreUnavailableException ex)
        {
            return (null, ex);
        }
        catch (RedisException ex)
        {
            return (null, new StoreUnavailableException($"Sweep of tenant {tenant} failed in the store.", ex));
        }
    }

    [LoggerMessage(EventId = 1040, Level = LogLevel.Debug, Message = "Sweep ended {Count} expired sessions of tenant {Tenant}")]
    private partial void LogSwept(string tenant, int count);

    [LoggerMessage(EventId = 1041, Level = LogLevel.Debug, Message = "Sweep skipped: the licensing store is unavailable or failed; the next interval tries again")]
    private partial void LogSweepFailed(Exception exception);

    [LoggerMessage(EventId = 1400, Level = LogLevel.Debug, Message = "Full sweep of {Count} tenants done; the due index is repaired")]
    private partial void LogFullSweep(int count);
}
