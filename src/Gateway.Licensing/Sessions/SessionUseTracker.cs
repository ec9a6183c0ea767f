using System.Collections.Concurrent;
using Gateway.Licensing.Options;
using Gateway.Licensing.Results;
using Gateway.Licensing.Store;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Gateway.Licensing.Sessions;

/// <summary>
/// Keeps long-lived use of a session honest. A request forwarded on a locally admitted session is
/// registered when it is admitted and marked closed when its response completes; an upgraded connection
/// (WebSocket) or a response still streaming is simply a request that has not completed yet. While a
/// use is open the tracker, every <see cref="Tick"/>:
/// <list type="bullet">
/// <item>counts it as use of the session: the idle clock does not run, and a touch goes to the store at
/// least every touch interval, so the session keeps its seat; when the use closes, the idle clock
/// starts then (<see cref="Closed"/>);</item>
/// <item>closes it once its session ended for any reason on this replica's knowledge (ended here,
/// announced by another replica, found gone by a touch, a service session's lifetime over), woken by
/// the end: an upgraded connection (WebSocket) at once; any other request gets <see cref="Grace"/>
/// to complete (an ordinary call does), and is aborted if it is still open then (a stream, a long
/// poll), so nothing outlives its session by more than that;</item>
/// <item>asks the store again about its session when the session's last confirmation is older than the
/// revocation subscription's proof (<see cref="RevocationBus.TrustedSince"/>): an end announced while
/// the subscription was down may have been missed, and the touch's answer tells.</item>
/// </list>
/// While the store is unavailable no touch is queued (none could land); the outage policy applies.
/// Cost per proxied request: one small object (the host's <see cref="SessionUse"/>), one lock-free
/// enqueue, and a completion callback; no lock and no dictionary operation. Only open uses are looked at
/// again, by this background pass.
/// </summary>
public sealed partial class SessionUseTracker : BackgroundService
{
    /// <summary>The longest pause between two passes; shorter when the touch interval is (but at least 50 ms).</summary>
    internal static readonly TimeSpan MaxTick = TimeSpan.FromMilliseconds(250);

    private static readonly TimeSpan MinTick = TimeSpan.FromMilliseconds(50);

    /// <summary>How long a request already in flight when its session ends may still take to complete.</summary>
    internal static readonly TimeSpan Grace = TimeSpan.FromMilliseconds(500);

    private readonly ConcurrentQueue<SessionUse> _opened = new();
    private readonly List<SessionUse> _open = [];
    private long _nextWake = long.MaxValue;
    private readonly Lock _passLock = new();
    private readonly LocalSessionCache _cache;
    private readonly TouchBatcher _touches;
    private readonly RevocationBus _revocations;
    private readonly StoreHealth _health;
    private readonly IOptionsMonitor<LicensingOptions> _options;
    private readonly TimeProvider _time;
    private readonly ILogger<SessionUseTracker> _logger;

    internal SessionUseTracker(
        LocalSessionCache cache,
        TouchBatcher touches,
        RevocationBus revocations,
        StoreHealth health,
        IOptionsMonitor<LicensingOptions> options,
        TimeProvider time,
        ILogger<SessionUseTracker> logger)
    {
        _cache = cache;
        _touches = touches;
        _revocations = revocations;
        _health = health;
        _options = options;
        _time = time;
        _logger = logger;
    }

    /// <summary>The pause between two passes for the current options.</summary>
    internal TimeSpan Tick
    {
        get
        {
            var touch = _options.CurrentValue.EffectiveTouchInterval;
            return touch < MinTick ? MinTick : touch > MaxTick ? MaxTick : touch;
        }
    }

    /// <summary>
    /// Registers a request just forwarded on the session of <paramref name="decision"/> (one that
    /// <see cref="AdmissionDecision.TracksUse"/>); call <see cref="Closed"/> when its response completed.
    /// </summary>
    /// <param name="use">The host's handle of the request.</param>
    /// <param name="decision">The decision that forwarded it.</param>
    public void Opened(SessionUse use, in AdmissionDecision decision) =>
        Opened(use, decision.Entry ?? throw new ArgumentException("The decision does not track use.", nameof(decision)));

    /// <summary>Registers a request just admitted on <paramref name="entry"/>'s session; call <see cref="Closed"/> when its response completed.</summary>
    internal void Opened(SessionUse use, LocalSessionCache.Entry entry)
    {
        use.Entry = entry;
        _opened.Enqueue(use);
        // The entry may have ended while this request was being admitted; the enqueue above is a full
        // fence, so either the pass woken by that end sees this use, or this read sees the end.
        if (entry.IsEnded) Wake();
    }

    /// <summary>The use's response completed: its session was in use until now.</summary>
    public void Closed(SessionUse use)
    {
        if (!use.TryClose()) return;
        var entry = use.Entry;
        var now = _time.GetTimestamp();
        Volatile.Write(ref entry.LastRequestAt, now);
        if (!entry.IsEnded && _time.GetElapsedTime(Volatile.Read(ref entry.ConfirmedAt), now) >= _options.CurrentValue.EffectiveTouchInterval)
        {
            _touches.Enqueue(entry);
        }
    }

    private void Wake()
    {
        var signal = _cache.EndedSignal;
        if (signal.CurrentCount != 0) return;
        try
        {
            signal.Release();
        }
        catch (SemaphoreFullException)
        {
        }
    }

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            Pass();
            // Wake at the next tick, or sooner when an open service session reaches its deadline or a
            // request of an ended session has had its grace.
            var pause = Tick;
            var untilDue = _time.GetElapsedTime(_time.GetTimestamp(), Volatile.Read(ref _nextWake));
            if (untilDue < pause) pause = untilDue > TimeSpan.Zero ? untilDue : TimeSpan.FromMilliseconds(1);
            using var wait = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
            var delay = Task.Delay(pause, _time, wait.Token);
            var ended = _cache.EndedSignal.WaitAsync(wait.Token);
            await Task.WhenAny(delay, ended).ConfigureAwait(false);
            await wait.CancelAsync().ConfigureAwait(false);
            try
            {
                await Task.WhenAll(delay, ended).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // the one that did not finish first
            }
        }
    }

    /// <summary>One pass over the open uses (what the background loop does every tick); returns how many it closed.</summary>
    internal int Pass()
    {
        lock (_passLock)
        {
            var first = _open.Count;
            while (_opened.TryDequeue(out var queued)) _open.Add(queued);
            var now = _time.GetTimestamp();
            for (var i = first; i < _open.Count; i++) _open[i].SeenAt = now;
            var grace = (long)(Grace.TotalSeconds * _time.TimestampFrequency);
            var touchInterval = _options.CurrentValue.EffectiveTouchInterval;
            var trustedSince = _revocations.TrustedSince;
            // While the store is down a touch cannot land; the outage policy decides meanwhile.
            var storeUp = !_health.IsUnavailable;
            int kept = 0, aborted = 0;
            var nextWake = long.MaxValue;
            for (var i = 0; i < _open.Count; i++)
            {
                var use = _open[i];
                if (!use.IsOpen) continue;
                var entry = use.Entry;
                if (!entry.IsEnded && now >= Volatile.Read(ref entry.Deadline))
                {
                    // A service session's lifetime is over: its next request goes to the store, which ends it.
                    _cache.Forget(entry.SessionId, entry);
                    LogLifetimeOver(entry.Tenant);
                }
                if (entry.IsEnded)
                {
                    if (use.ClosesAtOnce || now - use.SeenAt >= grace)
                    {
                        if (use.TryAbort()) aborted++;
                        continue;
                    }
                    _open[kept++] = use; // admitted before the end: it may still complete by itself
                    nextWake = Math.Min(nextWake, use.SeenAt + grace);
                    continue;
                }

                _open[kept++] = use;
                nextWake = Math.Min(nextWake, Volatile.Read(ref entry.Deadline));
                Volatile.Write(ref entry.LastRequestAt, now);
                var confirmedAt = Volatile.Read(ref entry.ConfirmedAt);
                if (storeUp && (confirmedAt < trustedSince || _time.GetElapsedTime(confirmedAt, now) >= touchInterval)) _touches.Enqueue(entry);
            }
            _open.RemoveRange(kept, _open.Count - kept);
            Volatile.Write(ref _nextWake, nextWake);
            if (aborted > 0) LogClosed(aborted);
            return aborted;
        }
    }

    [LoggerMessage(EventId = 1050, Level = LogLevel.Debug, Message = "Closed {Count} requests or connections still open on sessions that ended")]
    private partial void LogClosed(int count);

    [LoggerMessage(EventId = 1051, Level = LogLevel.Debug, Message = "A service session of tenant {Tenant} reached its lifetime with requests or connections open; closing them")]
    private partial void LogLifetimeOver(string tenant);
}
