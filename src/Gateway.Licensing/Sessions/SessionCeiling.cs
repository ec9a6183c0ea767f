using Gateway.Licensing.Options;
using Gateway.Licensing.Store;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Gateway.Licensing.Sessions;

/// <summary>
/// An approximate ceiling on live sessions across all tenants (<see cref="EmbeddedStoreOptions.MaxSessions"/>),
/// for a store that lives in the gateway's own memory: past it, a new session is refused instead of
/// letting the store grow until the process runs out of memory. Used only on the embedded store, which
/// serves exactly one gateway process, so this process sees every session that is created.
/// </summary>
/// <remarks>
/// The count is the store's total (the sessions hashes of every tenant, read every
/// <see cref="SampleInterval"/>) plus the sessions this process created since that read. Sessions that
/// ended since the read are still counted until the next one, and admissions in flight when the
/// ceiling is reached still complete, so the count may run a little above the ceiling and stay there up
/// to a sample interval longer than it should: never below. Nothing here adds a store call to an
/// admitted session's requests; an admission adds one (an existence check of the session) only while
/// the ceiling is reached, so that a live session that asks again is never refused.
/// </remarks>
public sealed partial class SessionCeiling
{
    /// <summary>How often the store's total is read again.</summary>
    public static readonly TimeSpan SampleInterval = TimeSpan.FromSeconds(10);

    /// <summary>At most one warning per this interval while new sessions are refused.</summary>
    public static readonly TimeSpan WarningInterval = TimeSpan.FromMinutes(1);

    private readonly LicenseStore _store;
    private readonly IOptionsMonitor<LicensingOptions> _options;
    private readonly TimeProvider _time;
    private readonly ILogger<SessionCeiling> _logger;

    private long _sampled;
    private long _created;
    private long _createdAtSample;
    private long _refusedSinceWarning;
    private long _lastWarningAt = long.MinValue;

    /// <summary>A ceiling that counts from <paramref name="store"/>'s total; the host creates it only for the embedded store.</summary>
    public SessionCeiling(LicenseStore store, IOptionsMonitor<LicensingOptions> options, TimeProvider time, ILogger<SessionCeiling> logger)
    {
        _store = store;
        _options = options;
        _time = time;
        _logger = logger;
    }

    /// <summary>The configured ceiling; 0 = none.</summary>
    public int MaxSessions => _options.CurrentValue.Embedded.MaxSessions;

    /// <summary>Live sessions as far as this process knows: the last read of the store plus those created since.</summary>
    public long Count => Volatile.Read(ref _sampled) + Interlocked.Read(ref _created) - Volatile.Read(ref _createdAtSample);

    /// <summary>Whether a new session must be refused now.</summary>
    public bool IsReached => MaxSessions > 0 && Count >= MaxSessions;

    /// <summary>Called for every admission that created a session.</summary>
    public void SessionCreated() => Interlocked.Increment(ref _created);

    /// <summary>Reads the store's total of live sessions now; while the store is unavailable the last count stays.</summary>
    public async Task SampleAsync()
    {
        // Sessions created while the store is read may be counted twice until the next read: too
        // many, never too few.
        var createdBefore = Interlocked.Read(ref _created);
        long total;
        try
        {
            total = await _store.CountLiveSessionsAsync().ConfigureAwait(false);
        }
        catch (StoreUnavailableException ex)
        {
            LogSampleFailed(ex);
            return;
        }
        Volatile.Write(ref _sampled, total);
        Volatile.Write(ref _createdAtSample, createdBefore);
    }

    /// <summary>Records one refused session and writes the warning at most once per <see cref="WarningInterval"/>.</summary>
    public void Refused(string tenant)
    {
        var refused = Interlocked.Increment(ref _refusedSinceWarning);
        var now = _time.GetTimestamp();
        var last = Interlocked.Read(ref _lastWarningAt);
        if (last != long.MinValue && _time.GetElapsedTime(last, now) < WarningInterval) return;
        if (Interlocked.CompareExchange(ref _lastWarningAt, now, last) != last) return;
        Interlocked.Add(ref _refusedSinceWarning, -refused);
        LogCeilingReached(Count, MaxSessions, refused, tenant);
    }

    [LoggerMessage(EventId = 1500, Level = LogLevel.Warning,
        Message = "The embedded store holds about {Count} live sessions, its most (Licensing:Embedded:MaxSessions = {MaxSessions}): new sessions get 503 store-unavailable until sessions end; live sessions keep working. {Refused} refused since the last such line (the latest of tenant {Tenant}). Move to Redis (ConnectionStrings:Redis) for more sessions")]
    private partial void LogCeilingReached(long count, int maxSessions, long refused, string tenant);

    [LoggerMessage(EventId = 1501, Level = LogLevel.Debug, Message = "Could not count the embedded store's live sessions; keeping the last count")]
    private partial void LogSampleFailed(Exception exception);
}
