using System.Diagnostics;
using Gateway.Licensing.Identity;
using Gateway.Licensing.Options;
using Gateway.Licensing.Results;
using Gateway.Licensing.Rules;
using Gateway.Licensing.Sessions;
using Gateway.Licensing.Store;
using Gateway.Licensing.Tests.Infrastructure;
using Gateway.Licensing.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;
using StackExchange.Redis;

namespace Gateway.Licensing.Tests.Store;

/// <summary>
/// Admin writes wait for replicas (<see cref="DurableWrites"/>), on a real standalone redis-server: with no
/// replica nothing is waited for; a replica that follows acknowledges; a replica cut off from its primary
/// (it can no longer authenticate to it) does not, and the write is reported not durable.
/// </summary>
public sealed class DurableWritesTests : IAsyncLifetime
{
    private const string Tenant = "durable";
    private readonly RedisServerFixture _primary = new();
    private RedisProcess? _replica;

    public Task InitializeAsync() => _primary.InitializeAsync();

    public async Task DisposeAsync()
    {
        _replica?.Dispose();
        await _primary.DisposeAsync();
    }

    [Fact]
    public async Task Without_a_replica_nothing_is_waited_for_and_every_write_succeeds()
    {
        var (store, durable) = Create(new LicensingOptions());
        Assert.Equal(0, await durable.RequiredAcksAsync(TenantKeys.For(Tenant)[0]));
        await PlanAsync(store);
        Assert.Equal(ActivationStatus.Created, (await store.SetUserActiveAsync(Tenant, "alice", true, "admin", durable: true)).Status);
    }

    [Fact]
    public async Task A_replica_that_follows_acknowledges_the_write()
    {
        await StartReplicaAsync();
        var (store, durable) = Create(new LicensingOptions());
        Assert.Equal(1, await durable.RequiredAcksAsync(TenantKeys.For(Tenant)[0]));
        await PlanAsync(store);
        Assert.Equal(ActivationStatus.Created, (await store.SetUserActiveAsync(Tenant, "alice", true, "admin", durable: true)).Status);
        // The acknowledgement means the replica has it now, not some time later.
        var onReplica = await RespClient.TryCommandAsync(_replica!.Port, TimeSpan.FromSeconds(2), "SISMEMBER", $"lic:{{{Tenant}}}:active", "alice");
        Assert.Equal(":1", onReplica);
    }

    [Fact]
    public async Task A_replica_cut_off_from_its_primary_makes_the_write_not_durable_but_refusals_and_plain_writes_are_unaffected()
    {
        await StartReplicaAsync();
        var recording = new RecordingListener();
        var (store, _) = Create(new LicensingOptions(), recording);
        await PlanAsync(store, seatLimit: 1);
        Assert.Equal(ActivationStatus.Created, (await store.SetUserActiveAsync(Tenant, "alice", true, "admin", durable: true)).Status);
        var session = await store.AdmitAsync(new SessionIdentity(Tenant, "alice", ClientKind.Desktop, "laptop"));
        Assert.Equal(AdmissionOutcome.Admitted, session.Outcome);

        await CutReplicaAsync();
        var clock = Stopwatch.StartNew();
        await Assert.ThrowsAsync<StoreNotDurableException>(() => store.SetUserActiveAsync(Tenant, "alice", false, "admin", durable: true));
        // The write was made on the primary: the session it ended was handed on, so no replica keeps it.
        Assert.Contains(recording.Ended, e => e.SessionId == session.SessionId);
        Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(900), $"gave up after {clock.Elapsed} instead of waiting ReplicaAckTimeout");

        // A refusal claims no change: no wait can make it wrong.
        Assert.Equal(ActivationStatus.Created, (await store.SetUserActiveAsync(Tenant, "bob", true, "admin")).Status);
        Assert.Equal(ActivationStatus.SeatLimitReached, (await store.SetUserActiveAsync(Tenant, "carol", true, "admin", durable: true)).Status);
        // Writes that are not admin writes never wait.
        Assert.Equal(ActivationStatus.Created, (await store.SetUserActiveAsync(Tenant, "dave", false, "admin")).Status);
    }

    [Fact]
    public async Task MinReplicaAcks_0_turns_the_wait_off_and_more_acks_than_replicas_is_never_durable()
    {
        await StartReplicaAsync();
        var (off, _) = Create(new LicensingOptions { Store = { MinReplicaAcks = 0 } });
        await PlanAsync(off);
        await CutReplicaAsync();
        Assert.Equal(ActivationStatus.Created, (await off.SetUserActiveAsync(Tenant, "alice", true, "admin", durable: true)).Status);

        var (two, _) = Create(new LicensingOptions { Store = { MinReplicaAcks = 2, ReplicaAckTimeout = TimeSpan.FromMilliseconds(100) } });
        await Assert.ThrowsAsync<StoreNotDurableException>(() => two.SetUserActiveAsync(Tenant, "bob", true, "admin", durable: true));
    }

    private (LicenseStore Store, DurableWrites Durable) Create(LicensingOptions options, RecordingListener? listener = null)
    {
        var monitor = new StaticOptionsMonitor<LicensingOptions>(options);
        var durable = new DurableWrites(_primary.Connection, monitor, NullLogger<DurableWrites>.Instance);
        return (new LicenseStore(_primary.Connection, monitor, listener is null ? [] : [listener], durable), durable);
    }

    private static Task PlanAsync(LicenseStore store, int seatLimit = 10) =>
        store.SetPlanAsync(Tenant, new TenantPlan(LicenseModel.RegisteredUsers, seatLimit, []), fromConfiguration: false, "operator");

    private async Task StartReplicaAsync()
    {
        for (var attempt = 1; ; attempt++)
        {
            var port = FreePort.Get();
            var replica = new RedisProcess(port, RedisProcess.CreateTempDirectory($"redis-replica-{port}"), "--replicaof", "127.0.0.1", _primary.Port.ToString(System.Globalization.CultureInfo.InvariantCulture));
            try
            {
                await replica.StartAsync(TimeSpan.FromSeconds(30));
                _replica = replica;
                break;
            }
            catch (RedisProcessStartException) when (attempt < 5)
            {
                replica.Dispose();
            }
        }
        await WaitForAsync(async () => (await RespClient.TryCommandAsync(_replica.Port, TimeSpan.FromSeconds(2), "INFO", "replication"))?.Contains("master_link_status:up", StringComparison.Ordinal) == true);
        await WaitForAsync(async () => (await RespClient.TryCommandAsync(_primary.Port, TimeSpan.FromSeconds(2), "INFO", "replication"))?.Contains("connected_slaves:1", StringComparison.Ordinal) == true);
    }

    /// <summary>The replica can no longer authenticate to its primary, and its link is dropped.</summary>
    private async Task CutReplicaAsync()
    {
        Assert.Equal("+OK", await RespClient.TryCommandAsync(_replica!.Port, TimeSpan.FromSeconds(2), "CONFIG", "SET", "masteruser", "cut-off"));
        Assert.Equal("+OK", await RespClient.TryCommandAsync(_replica.Port, TimeSpan.FromSeconds(2), "CONFIG", "SET", "masterauth", "cut-off"));
        await _primary.Connection.GetServer("127.0.0.1", _primary.Port).ExecuteAsync("CLIENT", "KILL", "TYPE", "replica");
        await WaitForAsync(async () => (await RespClient.TryCommandAsync(_primary.Port, TimeSpan.FromSeconds(2), "INFO", "replication"))?.Contains("connected_slaves:0", StringComparison.Ordinal) == true);
    }

    private static async Task WaitForAsync(Func<Task<bool>> condition)
    {
        var elapsed = Stopwatch.StartNew();
        while (!await condition())
        {
            if (elapsed.Elapsed > TimeSpan.FromSeconds(30)) throw new TimeoutException("Timed out waiting for the replica.");
            await Task.Delay(50);
        }
    }
}
