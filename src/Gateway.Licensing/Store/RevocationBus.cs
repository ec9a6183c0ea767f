using System.Globalization;
using Gateway.Licensing.Results;
using Gateway.Licensing.Sessions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace Gateway.Licensing.Store;

/// <summary>
/// Makes an ended session stop on every replica: the acting replica forgets it before the store call
/// returns, and announces it on a pub/sub channel that every replica applies on arrival. Sessions ended
/// for idleness need no announcement: no replica trusts an entry that long unconfirmed.
/// </summary>
/// <remarks>
/// <para>Pub/sub delivers at most once: a message published while a replica's subscription is down (a
/// dropped connection, <c>CLIENT KILL TYPE pubsub</c>, a store restart or failover) never reaches it.
/// StackExchange.Redis reports the drop (<c>ConnectionFailed</c> for the subscription connection, within
/// milliseconds when the server closes it) and subscribes again by itself, but it raises
/// <c>ConnectionRestored</c> before the new subscription is in place: a message published right after
/// that event can still be lost. So this bus trusts no event to say the subscription works again; it
/// proves it. It publishes its own heartbeat on the channel (every <see cref="BeatInterval"/>, and every
/// <see cref="RecoveryBeatInterval"/> while unproven) and watches its own beats come back in order:</para>
/// <list type="bullet">
/// <item>a drop reported by the client, a beat not back within <see cref="BeatTimeout"/>, or a beat that
/// could not be published makes the subscription unproven: <see cref="TrustedSince"/> becomes
/// <see cref="long.MaxValue"/> and no cached session is trusted;</item>
/// <item>the first beat back that was published after that, or a beat back after a gap in the sequence (a
/// beat was lost, so anything else published then may have been), sets <see cref="TrustedSince"/> to the
/// moment it came back. Every announcement the store handled after the beat reaches this replica; any it handled before
/// may be lost, so a cached session is trusted again only once the store confirmed it by a call sent
/// after that moment (<see cref="SessionAdmitter"/>).</item>
/// </list>
/// <para>A store answer already in flight when an end was applied may describe the session as it was
/// before; the cache's tombstones keep such an answer from bringing it back
/// (<see cref="LocalSessionCache.Confirmed"/>).</para>
/// <para>A store failover loses more than messages: a promoted replica may lack the newest sessions and
/// changes of the primary it replaces (replication is asynchronous), so a cached session may no longer
/// exist, or a revoked one may live again. The same rule settles that: any store connection that fails
/// (a primary that died) and any slot that moves to another node (a promotion, planned or not) makes the
/// subscription unproven, so every cached session is decided again by the store that now owns its tenant,
/// on its next request, against that store's cap.</para>
/// </remarks>
internal sealed partial class RevocationBus : ISessionEndedListener, IHostedService, IDisposable
{
    /// <summary>How often the subscription is proven while it works.</summary>
    public static readonly TimeSpan BeatInterval = TimeSpan.FromMilliseconds(250);

    /// <summary>How long a beat may take to come back before the subscription counts as unproven.</summary>
    public static readonly TimeSpan BeatTimeout = TimeSpan.FromMilliseconds(500);

    /// <summary>How often beats go out while the subscription is unproven (e.g. resubscribing).</summary>
    public static readonly TimeSpan RecoveryBeatInterval = TimeSpan.FromMilliseconds(50);

    /// <summary>How long the subscription may stay unproven before a warning says so (once per episode).</summary>
    public static readonly TimeSpan UnprovenWarning = TimeSpan.FromSeconds(10);

    // Session ids are base64url: a message starting with '!' is never one.
    private const string BeatPrefix = "!beat ";

    private readonly LocalSessionCache _cache;
    private readonly IConnectionMultiplexer _connection;
    private readonly TimeProvider _time;
    private readonly ILogger<RevocationBus> _logger;
    private readonly string _nonce = Guid.NewGuid().ToString("N")[..16];
    private readonly CancellationTokenSource _stopping = new();
    private readonly SemaphoreSlim _wake = new(0, 1);
    private readonly Lock _beatLock = new();
    private bool _disposed;

    private long _trustedSince = long.MaxValue;
    private Task _running = Task.CompletedTask;
    private bool _started;

    // Guarded by _beatLock: the last beat published and the last one back, and the epoch, which every
    // distrust moves on, so a beat published before a drop can never vouch for the time after it.
    private long _sentSeq;
    private long _sentAt;
    private long _receivedSeq;
    private long _epoch;
    private long _unprovenSince;
    private bool _warned;

    public RevocationBus(LocalSessionCache cache, IConnectionMultiplexer connection, TimeProvider time, ILogger<RevocationBus> logger)
    {
        _cache = cache;
        _connection = connection;
        _time = time;
        _logger = logger;
        _unprovenSince = time.GetTimestamp();
    }

    /// <summary>
    /// Local tick since which every announcement of an ended session reaches this replica;
    /// <see cref="long.MaxValue"/> while that is not proven. A cached session counts as confirmed only by
    /// a store call sent at or after this tick.
    /// </summary>
    public long TrustedSince => Volatile.Read(ref _trustedSince);

    /// <summary>Whether the subscription is currently proven to deliver.</summary>
    public bool IsTrusted => TrustedSince != long.MaxValue;

    public void OnSessionsEnded(IReadOnlyList<EndedSession> ended)
    {
        string? message = null;
        var now = _time.GetTimestamp();
        foreach (var e in ended)
        {
            _cache.Ended(e.SessionId, now);
            if (e.Reason != EndReason.Idle) message = message is null ? e.SessionId : message + " " + e.SessionId;
        }
        if (message is null) return;
        _ = PublishAsync(message);
    }

    private async Task PublishAsync(string message)
    {
        try
        {
            await _connection.GetSubscriber().PublishAsync(TenantKeys.RevocationChannel, message).ConfigureAwait(false);
        }
        catch (Exception ex) when (LicenseStore.IsUnavailable(ex))
        {
            // The other replicas see their own beats fail too, and trust nothing until the store answers.
            LogPublishFailed(ex);
        }
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _connection.ConnectionFailed += OnConnectionFailed;
        _connection.ConnectionRestored += OnConnectionRestored;
        _connection.HashSlotMoved += OnHashSlotMoved;
        _started = true;
        // The store may be down at start; the gateway starts anyway and subscribes once it answers.
        _running = Task.Run(() => RunAsync(_stopping.Token), CancellationToken.None);
        return Task.CompletedTask;
    }

    private void OnConnectionFailed(object? sender, ConnectionFailedEventArgs e) =>
        Distrust(e.ConnectionType == ConnectionType.Subscription
            ? "the subscription connection failed"
            : "a store connection failed (the store may have failed over)");

    private void OnHashSlotMoved(object? sender, HashSlotMovedEventArgs e) =>
        Distrust("a hash slot moved to another store node (the store may have failed over)");

    private void OnConnectionRestored(object? sender, ConnectionFailedEventArgs e)
    {
        if (e.ConnectionType != ConnectionType.Subscription) return;
        // Restored, but the channel may not be subscribed again yet: prove it before trusting anything.
        Distrust("the subscription connection was restored");
        Wake();
    }

    private void Distrust(string reason)
    {
        bool wasTrusted;
        lock (_beatLock)
        {
            _epoch++;
            wasTrusted = IsTrusted;
            if (wasTrusted) _unprovenSince = _time.GetTimestamp();
            Volatile.Write(ref _trustedSince, long.MaxValue);
        }
        if (wasTrusted) LogDistrusted(reason);
    }

    private void Wake()
    {
        if (_wake.CurrentCount != 0) return;
        try
        {
            _wake.Release();
        }
        catch (SemaphoreFullException)
        {
        }
    }

    private async Task RunAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var queue = await _connection.GetSubscriber().SubscribeAsync(TenantKeys.RevocationChannel).ConfigureAwait(false);
                // One message at a time, in the order the store sent them: a beat proves everything before it.
                queue.OnMessage(message => Apply(message.Message));
                break;
            }
            catch (Exception ex) when (LicenseStore.IsUnavailable(ex))
            {
                LogSubscribeFailed(ex);
                if (!await DelayAsync(TimeSpan.FromSeconds(1), stoppingToken).ConfigureAwait(false)) return;
            }
        }

        while (!stoppingToken.IsCancellationRequested)
        {
            var wait = await BeatAsync().ConfigureAwait(false);
            if (!await DelayAsync(wait, stoppingToken).ConfigureAwait(false)) return;
        }
    }

    /// <summary>Checks the last beat, sends the next one when due; returns how long to wait before looking again.</summary>
    private async Task<TimeSpan> BeatAsync()
    {
        var now = _time.GetTimestamp();
        long seq, epoch;
        lock (_beatLock)
        {
            var outstanding = _receivedSeq < _sentSeq;
            var sinceSent = _time.GetElapsedTime(_sentAt, now);
            if (IsTrusted && outstanding)
            {
                if (sinceSent < BeatTimeout) return Min(BeatTimeout - sinceSent, RecoveryBeatInterval);
                Distrust("a heartbeat did not come back in time");
            }
            if (!IsTrusted && !_warned && _time.GetElapsedTime(_unprovenSince, now) >= UnprovenWarning)
            {
                _warned = true;
                LogStillUnproven(UnprovenWarning);
            }
            var interval = IsTrusted ? BeatInterval : RecoveryBeatInterval;
            if (_sentSeq > 0 && sinceSent < interval) return interval - sinceSent;
            seq = ++_sentSeq;
            epoch = _epoch;
            _sentAt = now;
        }
        try
        {
            var beat = string.Create(CultureInfo.InvariantCulture, $"{BeatPrefix}{_nonce} {epoch} {seq}");
            await _connection.GetSubscriber().PublishAsync(TenantKeys.RevocationChannel, beat).ConfigureAwait(false);
        }
        catch (Exception ex) when (LicenseStore.IsUnavailable(ex))
        {
            Distrust("a heartbeat could not be published");
            LogBeatFailed(ex);
        }
        return IsTrusted ? BeatInterval : RecoveryBeatInterval;
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    /// <summary>Waits, or less when woken; false once stopping.</summary>
    private async Task<bool> DelayAsync(TimeSpan delay, CancellationToken stoppingToken)
    {
        if (delay <= TimeSpan.Zero) return !stoppingToken.IsCancellationRequested;
        using var wait = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        var elapsed = Task.Delay(delay, _time, wait.Token);
        var woken = _wake.WaitAsync(wait.Token);
        await Task.WhenAny(elapsed, woken).ConfigureAwait(false);
        await wait.CancelAsync().ConfigureAwait(false);
        try
        {
            await Task.WhenAll(elapsed, woken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // the one that did not finish first
        }
        return !stoppingToken.IsCancellationRequested;
    }

    private void Apply(RedisValue message)
    {
        var text = (string?)message;
        if (string.IsNullOrEmpty(text)) return;
        var now = _time.GetTimestamp();
        if (text.StartsWith(BeatPrefix, StringComparison.Ordinal))
        {
            OnBeat(text.AsSpan(BeatPrefix.Length), now);
            return;
        }
        foreach (var range in text.AsSpan().Split(' '))
        {
            if (range.End.Value > range.Start.Value) _cache.Ended(text[range], now);
        }
    }

    private void OnBeat(ReadOnlySpan<char> beat, long now)
    {
        // "<nonce> <epoch> <seq>"; another replica's beats are not ours to check.
        var first = beat.IndexOf(' ');
        if (first < 0 || !beat[..first].SequenceEqual(_nonce)) return;
        var rest = beat[(first + 1)..];
        var second = rest.IndexOf(' ');
        if (second < 0
            || !long.TryParse(rest[..second], NumberStyles.None, CultureInfo.InvariantCulture, out var epoch)
            || !long.TryParse(rest[(second + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var seq)) return;
        lock (_beatLock)
        {
            if (seq <= _receivedSeq) return;
            var gap = seq != _receivedSeq + 1;
            _receivedSeq = seq;
            if (epoch != _epoch) return; // published before the last distrust: proves nothing about now
            if (!gap && IsTrusted) return;
            // Unproven until now, or a beat was lost on the way (and whatever else was published then):
            // only what the store confirms from now on is trusted.
            Volatile.Write(ref _trustedSince, now);
            _warned = false;
        }
        LogTrusted();
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        await _running.ConfigureAwait(false);
        if (Volatile.Read(ref _disposed)) return; // the container got here first; the connection is gone
        if (_started)
        {
            _connection.ConnectionFailed -= OnConnectionFailed;
            _connection.ConnectionRestored -= OnConnectionRestored;
            _connection.HashSlotMoved -= OnHashSlotMoved;
        }
        try
        {
            await _connection.GetSubscriber().UnsubscribeAsync(TenantKeys.RevocationChannel).ConfigureAwait(false);
        }
        catch (Exception ex) when (LicenseStore.IsUnavailable(ex))
        {
        }
    }

    /// <summary>
    /// Ends the subscription loop. Neither the token source nor the semaphore is disposed (neither holds
    /// anything that needs it): a host may still call <see cref="StopAsync"/> after its container
    /// disposed the bus, as a test host's own shutdown does when it races the test's.
    /// </summary>
    public void Dispose()
    {
        Volatile.Write(ref _disposed, true);
        _stopping.Cancel();
    }

    [LoggerMessage(EventId = 1020, Level = LogLevel.Warning, Message = "Could not subscribe to revocations yet; retrying")]
    private partial void LogSubscribeFailed(Exception exception);

    [LoggerMessage(EventId = 1021, Level = LogLevel.Warning, Message = "Could not announce ended sessions to other replicas")]
    private partial void LogPublishFailed(Exception exception);

    [LoggerMessage(EventId = 1022, Level = LogLevel.Debug, Message = "Could not publish a revocation heartbeat")]
    private partial void LogBeatFailed(Exception exception);

    [LoggerMessage(EventId = 1023, Level = LogLevel.Information, Message = "Revocations may have been missed ({Reason}); cached sessions are checked with the store until the subscription is proven again")]
    private partial void LogDistrusted(string reason);

    [LoggerMessage(EventId = 1024, Level = LogLevel.Debug, Message = "The revocation subscription is proven; cached sessions are trusted once the store confirms them")]
    private partial void LogTrusted();

    [LoggerMessage(EventId = 1025, Level = LogLevel.Warning, Message = "Revocation announcements have not been proven to arrive for {Duration}; every enforced request is checked with the store meanwhile")]
    private partial void LogStillUnproven(TimeSpan duration);
}
