using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using Gateway.Licensing.Options;
using Gateway.Licensing.Scripts;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Gateway.Licensing.Store;

/// <summary>
/// Runs an admin write so that its answer can say whether it survives the loss of the primary: the script,
/// then <c>WAIT</c> for the replicas' acknowledgements, both on the node that owns the tenant's slot.
/// </summary>
/// <remarks>
/// <para><c>WAIT</c> counts the replicas that have applied everything the calling connection wrote, and it
/// blocks that connection meanwhile. So these writes go over a connection of their own: on the shared one a
/// wait for a lagging replica would stall every admission behind it. That connection is opened at the
/// first write that needs it, with the shared connection's settings and a command timeout longer by
/// <see cref="StoreOptions.ReplicaAckTimeout"/>.</para>
/// <para>How many acknowledgements are needed (<see cref="StoreOptions.MinReplicaAcks"/> unset): 1 when the
/// primary has a replica, else 0. On a Redis Cluster the cluster's own view says whether the primary has a
/// replica, whether or not its link is up. A standalone primary only lists the replicas connected now, so
/// a primary seen with a replica once is taken to have one until this process restarts: a replica that
/// falls behind or drops its link must not turn the wait off.</para>
/// </remarks>
internal sealed partial class DurableWrites : IDisposable
{
    private readonly IConnectionMultiplexer _connection;
    private readonly IOptionsMonitor<LicensingOptions> _options;
    private readonly ILogger<DurableWrites> _logger;
    private readonly IStoreWriteBarrier? _barrier;
    private readonly ConcurrentDictionary<EndPoint, byte> _seenWithReplica = new();
    private readonly SemaphoreSlim _connecting = new(1, 1);
    private ConnectionMultiplexer? _writer;

    public DurableWrites(IConnectionMultiplexer connection, IOptionsMonitor<LicensingOptions> options, ILogger<DurableWrites> logger, IStoreWriteBarrier? barrier = null)
    {
        _connection = connection;
        _options = options;
        _logger = logger;
        _barrier = barrier;
    }

    /// <summary>
    /// Runs <paramref name="call"/> and waits for the replicas of its tenant's slot owner. Returns the
    /// script's reply, and whether enough replicas acknowledged it in time (always true when none are
    /// needed). Store failures of the script itself are thrown as they come.
    /// </summary>
    internal async Task<(RedisResult Reply, bool Durable)> EvaluateAsync(ScriptCall call)
    {
        var (script, keys, args) = call;
        if (_barrier is not null)
        {
            // A store with a write barrier (the embedded store) has no replicas: its own commit is the wait.
            var written = await script.EvaluateAsync(_connection.GetDatabase(), keys, args).ConfigureAwait(false);
            return (written, await PassBarrierAsync().ConfigureAwait(false));
        }

        var required = await RequiredAcksAsync(keys[0]).ConfigureAwait(false);
        if (required == 0) return (await script.EvaluateAsync(_connection.GetDatabase(), keys, args).ConfigureAwait(false), true);

        var writer = await WriterAsync().ConfigureAwait(false);
        var before = writer.GetServer(keys[0]).EndPoint;
        var reply = await script.EvaluateAsync(writer.GetDatabase(), keys, args).ConfigureAwait(false);
        // The slot map is updated by a redirect, so the owner now is where the script ran. Had the slot
        // moved in between, WAIT on the new owner would vouch for writes it never saw.
        var server = writer.GetServer(keys[0]);
        if (!Equals(server.EndPoint, before))
        {
            LogOwnerMoved(Describe(before), Describe(server.EndPoint));
            return (reply, false);
        }

        var timeout = _options.CurrentValue.Store.ReplicaAckTimeout;
        try
        {
            var acks = (long)await server.ExecuteAsync("WAIT", required, (long)Math.Ceiling(timeout.TotalMilliseconds)).ConfigureAwait(false);
            if (acks >= required) return (reply, true);
            LogNotAcknowledged(Describe(server.EndPoint), acks, required, timeout);
        }
        catch (Exception ex) when (LicenseStore.IsUnavailable(ex))
        {
            LogWaitFailed(Describe(server.EndPoint), ex);
        }
        return (reply, false);
    }

    private async Task<bool> PassBarrierAsync()
    {
        try
        {
            await _barrier!.AfterWriteAsync().ConfigureAwait(false);
            return true;
        }
        catch (Exception ex) when (LicenseStore.IsUnavailable(ex) || ex is RedisException)
        {
            LogBarrierFailed(ex);
            return false;
        }
    }

    /// <summary>How many replicas must acknowledge a write to <paramref name="key"/>.</summary>
    internal async Task<int> RequiredAcksAsync(RedisKey key)
    {
        if (_options.CurrentValue.Store.MinReplicaAcks is { } configured) return configured;
        IServer server;
        try
        {
            server = _connection.GetServer(key);
        }
        catch (Exception ex) when (ex is RedisConnectionException or InvalidOperationException or NotSupportedException)
        {
            // No known owner: the write fails on its own, whatever is required.
            return 0;
        }

        if (server.ServerType == ServerType.Cluster)
        {
            // Asked afresh: the client's cached view of a promoted replica still shows it as one, with
            // the old primary (and itself as its replica) owning the slot.
            try
            {
                var node = (await server.ClusterNodesAsync().ConfigureAwait(false))?.GetBySlot(key);
                return node is not null && node.Children.Count > 0 ? 1 : 0;
            }
            catch (Exception ex) when (LicenseStore.IsUnavailable(ex))
            {
                return 0; // the write fails on its own
            }
        }

        if (_seenWithReplica.ContainsKey(server.EndPoint)) return 1;
        try
        {
            var info = await server.InfoAsync("replication").ConfigureAwait(false);
            var connected = info.SelectMany(g => g).FirstOrDefault(p => p.Key == "connected_slaves").Value;
            if (int.TryParse(connected, NumberStyles.None, CultureInfo.InvariantCulture, out var replicas) && replicas > 0)
            {
                if (_seenWithReplica.TryAdd(server.EndPoint, 0)) LogReplicaSeen(Describe(server.EndPoint));
                return 1;
            }
        }
        catch (RedisServerException)
        {
            // A store that does not report replication (the embedded store) has none.
        }
        catch (Exception ex) when (LicenseStore.IsUnavailable(ex))
        {
            // The write fails on its own.
        }
        return 0;
    }

    private async Task<ConnectionMultiplexer> WriterAsync()
    {
        if (Volatile.Read(ref _writer) is { } writer) return writer;
        await _connecting.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_writer is not null) return _writer;
            var options = ConfigurationOptions.Parse(_connection.Configuration);
            // Not part of the configuration string: the shared connection's policy, set again.
            options.AbortOnConnectFail = false;
            options.BacklogPolicy = BacklogPolicy.FailFast;
            options.ReconnectRetryPolicy = new ExponentialRetry(500, 5_000);
            options.AsyncTimeout += (int)Math.Ceiling(_options.CurrentValue.Store.ReplicaAckTimeout.TotalMilliseconds);
            options.ClientName = (options.ClientName ?? "seat-gateway") + "-writes";
            _writer = await ConnectionMultiplexer.ConnectAsync(options).ConfigureAwait(false);
            return _writer;
        }
        finally
        {
            _connecting.Release();
        }
    }

    private static string Describe(EndPoint? endPoint) => endPoint is null ? "(none)" : EndPointCollection.ToString(endPoint);

    public void Dispose()
    {
        _writer?.Dispose();
        _connecting.Dispose();
    }

    [LoggerMessage(EventId = 1300, Level = LogLevel.Warning, Message = "An admin write to {EndPoint} was acknowledged by {Acks} of the {Required} replicas required within {Timeout}; it is answered 503 store-not-durable")]
    private partial void LogNotAcknowledged(string endPoint, long acks, int required, TimeSpan timeout);

    [LoggerMessage(EventId = 1301, Level = LogLevel.Warning, Message = "Could not wait for the replicas of {EndPoint} after an admin write; it is answered 503 store-not-durable")]
    private partial void LogWaitFailed(string endPoint, Exception exception);

    [LoggerMessage(EventId = 1302, Level = LogLevel.Warning, Message = "The tenant's slot moved from {Before} to {After} during an admin write; it is answered 503 store-not-durable")]
    private partial void LogOwnerMoved(string before, string after);

    [LoggerMessage(EventId = 1304, Level = LogLevel.Warning, Message = "The licensing store could not commit an admin write to disk; it is answered 503 store-not-durable")]
    private partial void LogBarrierFailed(Exception exception);

    [LoggerMessage(EventId = 1303, Level = LogLevel.Information, Message = "The licensing store at {EndPoint} has a replica: admin writes wait for its acknowledgement from now on")]
    private partial void LogReplicaSeen(string endPoint);
}
