using Gateway.Licensing.Identity;
using Gateway.Licensing.Options;
using Gateway.Licensing.Results;
using Gateway.Licensing.Rules;
using Gateway.Licensing.Sessions;
using Gateway.Licensing.Store;
using Gateway.Licensing.Telemetry;
using Gateway.Licensing.Tests.Infrastructure;
using Gateway.Licensing.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using StackExchange.Redis;

namespace Gateway.Licensing.Tests.Sessions;

/// <summary>
/// The steady-state path and revocation across replicas: two "replicas" (each its own connection,
/// cache, store and admitter) share one real redis-server. Local time is faked; the store's clock
/// is real.
/// </summary>
[Collection("redis")]
public sealed class SessionAdmitterTests(RedisServerFixture redis) : IAsyncLifetime
{
    private readonly string _tenant = "t-" + Guid.NewGuid().ToString("N")[..12];
    private readonly List<Replica> _replicas = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var r in _replicas) await r.DisposeAsync();
    }

    private async Task<Replica> StartReplica(LicensingOptions? options = null)
    {
        var replica = await Replica.StartAsync(redis.ConnectionString, options ?? new LicensingOptions(), _replicas.Count + 1);
        _replicas.Add(replica);
        return replica;
    }

    private SessionIdentity Alice => new(_tenant, "alice", ClientKind.Desktop, "pc-1");

    private async Task ConcurrentPlan(Replica replica, int seats = 5) =>
        await replica.Store.SetPlanAsync(_tenant, new TenantPlan(LicenseModel.ConcurrentSessions, seats, []), false, "test");

    [Fact]
    public async Task An_admitted_session_is_forwarded_from_memory_until_a_touch_is_due()
    {
        var replica = await StartReplica();
        await ConcurrentPlan(replica);

        var first = await replica.Admitter.AdmitAsync(Alice);
        Assert.Equal(AdmissionOutcome.Admitted, first.Outcome);
        Assert.False(first.FromLocalCache);

        var second = await replica.Admitter.AdmitAsync(Alice);
        Assert.True(second.FromLocalCache);
        Assert.True(second.Forward);
        Assert.Equal(0, replica.Touches.Pending);

        replica.Time.Advance(TimeSpan.FromMinutes(1));
        var third = await replica.Admitter.AdmitAsync(Alice);
        Assert.True(third.FromLocalCache);
        Assert.Equal(1, replica.Touches.Pending);
        await replica.Admitter.AdmitAsync(Alice);
        Assert.Equal(1, replica.Touches.Pending);

        await replica.Touches.FlushAsync();
        Assert.Equal(0, replica.Touches.Pending);
        Assert.True(replica.Cache.TryGet(first.SessionId, out var entry));
        Assert.Equal(replica.Time.GetTimestamp(), entry.ConfirmedAt);
    }

    [Fact]
    public async Task A_session_unconfirmed_for_the_idle_timeout_goes_back_to_the_store()
    {
        // The store keeps it IdleTimeout + TouchInterval after its last confirmation; the cache trusts it
        // for IdleTimeout only, leaving a touch interval for a queued touch to land.
        var replica = await StartReplica();
        await ConcurrentPlan(replica);
        await replica.Admitter.AdmitAsync(Alice);
        replica.Time.Advance(TimeSpan.FromMinutes(20) - TimeSpan.FromTicks(1));
        Assert.True((await replica.Admitter.AdmitAsync(Alice)).FromLocalCache);

        replica.Time.Advance(TimeSpan.FromTicks(1));
        var decision = await replica.Admitter.AdmitAsync(Alice);
        Assert.False(decision.FromLocalCache);
        Assert.Equal(AdmissionOutcome.Admitted, decision.Outcome);
        Assert.False(decision.StoreResult!.Created);
    }

    [Fact]
    public async Task A_revocation_on_one_replica_is_honoured_by_the_other_within_a_second()
    {
        var actor = await StartReplica();
        var other = await StartReplica();
        await ConcurrentPlan(actor);
        var admitted = await other.Admitter.AdmitAsync(Alice);
        Assert.True((await other.Admitter.AdmitAsync(Alice)).FromLocalCache);

        var started = DateTime.UtcNow;
        Assert.True(await actor.Store.EndSessionAsync(_tenant, admitted.SessionId, EndReason.Revoked, "admin"));
        while (other.Cache.TryGet(admitted.SessionId, out _) && DateTime.UtcNow - started < TimeSpan.FromSeconds(5))
        {
            await Task.Delay(10);
        }
        var elapsed = DateTime.UtcNow - started;
        Assert.False(other.Cache.TryGet(admitted.SessionId, out _));
        Assert.True(elapsed < TimeSpan.FromSeconds(1), $"revocation took {elapsed}");

        var next = await other.Admitter.AdmitAsync(Alice);
        Assert.False(next.FromLocalCache);
        Assert.True(next.StoreResult!.Created);
    }

    [Fact]
    public async Task A_lost_revocation_is_bounded_by_the_next_touch()
    {
        var replica = await StartReplica();
        await ConcurrentPlan(replica);
        var admitted = await replica.Admitter.AdmitAsync(Alice);

        // End the session behind the replica's back: no listener, so no announcement.
        var silent = new LicenseStore(replica.Connection, new StaticOptionsMonitor<LicensingOptions>(new LicensingOptions()), []);
        Assert.True(await silent.EndSessionAsync(_tenant, admitted.SessionId, EndReason.Revoked, "admin"));
        Assert.True((await replica.Admitter.AdmitAsync(Alice)).FromLocalCache);

        replica.Time.Advance(new LicensingOptions().EffectiveTouchInterval);
        Assert.True((await replica.Admitter.AdmitAsync(Alice)).FromLocalCache);
        await replica.Touches.FlushAsync();
        Assert.False(replica.Cache.TryGet(admitted.SessionId, out _));

        var reopened = await replica.Admitter.AdmitAsync(Alice);
        Assert.True(reopened.StoreResult!.Created);
    }

    [Fact]
    public async Task A_replica_whose_subscription_dropped_trusts_no_cached_session_until_the_store_confirms_it()
    {
        // The case: revocations travel over pub/sub at most once. A session ended while this
        // replica's subscription was down was forwarded from its cache for a whole touch interval.
        var replica = await StartReplica();
        await ConcurrentPlan(replica);
        var admitted = await replica.Admitter.AdmitAsync(Alice);
        Assert.True((await replica.Admitter.AdmitAsync(Alice)).FromLocalCache);

        // The announcement is lost (the session ends without one), and the subscription drops.
        var silent = new LicenseStore(replica.Connection, new StaticOptionsMonitor<LicensingOptions>(new LicensingOptions()), []);
        Assert.True(await silent.EndSessionAsync(_tenant, admitted.SessionId, EndReason.Revoked, "admin"));
        var killed = DateTime.UtcNow;
        await redis.Connection.GetServer("127.0.0.1", redis.Port).ExecuteAsync("CLIENT", "KILL", "TYPE", "pubsub");

        AdmissionDecision decision;
        while ((decision = await replica.Admitter.AdmitAsync(Alice)).FromLocalCache)
        {
            Assert.True(DateTime.UtcNow - killed < TimeSpan.FromSeconds(1), "an ended session was still forwarded from the cache 1 s after the replica's subscription dropped");
            await Task.Delay(10);
        }
        Assert.True(decision.StoreResult!.Created, "the ended session's next request opens a new session");
    }

    [Fact]
    public async Task A_refresh_in_flight_when_the_session_is_revoked_does_not_put_it_back_in_the_cache()
    {
        var replica = await StartReplica();
        var actor = await StartReplica();
        await ConcurrentPlan(replica);
        var admitted = await replica.Admitter.AdmitAsync(Alice);
        var recency = TenantKeys.For(_tenant)[TenantKeys.Recency];
        var before = await redis.Connection.GetDatabase().SortedSetScoreAsync(recency, admitted.SessionId);

        // The cached entry is too old to trust, so the next request refreshes the session in the store.
        // Its reply is held back behind a large reply on the same connection: the store runs the refresh
        // at once, but the replica reads the answer only after the revocation announced meanwhile.
        var big = "big-" + _tenant;
        // In 4 MB pieces: one 32 MB write can outlast the fixture's 2 s timeout on a loaded machine.
        var piece = new byte[4 * 1024 * 1024];
        for (var i = 0; i < 8; i++) await redis.Connection.GetDatabase().StringAppendAsync(big, piece);
        replica.Time.Advance(TimeSpan.FromMinutes(20));
        var slow = replica.Connection.GetDatabase().StringGetAsync(big);
        var refresh = replica.Admitter.AdmitAsync(Alice).AsTask();
        var deadline = DateTime.UtcNow.AddSeconds(5);
        while (await redis.Connection.GetDatabase().SortedSetScoreAsync(recency, admitted.SessionId) == before)
        {
            Assert.True(DateTime.UtcNow < deadline, "the refresh never reached the store");
        }
        Assert.True(await actor.Store.EndSessionAsync(_tenant, admitted.SessionId, EndReason.Revoked, "admin"));
        var refreshed = await refresh;
        await slow;
        await redis.Connection.GetDatabase().KeyDeleteAsync(big);
        Assert.Equal(AdmissionOutcome.Admitted, refreshed.Outcome);
        Assert.False(refreshed.StoreResult!.Created);

        await Task.Delay(200); // the revocation has long arrived
        var next = await replica.Admitter.AdmitAsync(Alice);
        Assert.False(next.FromLocalCache, "the refresh's reply put the revoked session back in the cache");
        Assert.True(next.StoreResult!.Created);
    }

    [Fact]
    public async Task Batched_touches_keep_the_sliding_expiry_alive()
    {
        var options = new LicensingOptions { IdleTimeout = TimeSpan.FromSeconds(2), TouchInterval = TimeSpan.FromMilliseconds(200) };
        var replica = await StartReplica(options);
        await ConcurrentPlan(replica);
        var admitted = await replica.Admitter.AdmitAsync(Alice);

        // Four seconds of traffic, twice the idle timeout, with touches flushed as the batcher would.
        for (var i = 0; i < 16; i++)
        {
            await Task.Delay(250);
            replica.Time.Advance(TimeSpan.FromMilliseconds(250));
            var decision = await replica.Admitter.AdmitAsync(Alice);
            Assert.True(decision.Forward);
            await replica.Touches.FlushAsync();
        }
        var snapshot = await replica.Store.GetTenantAsync(_tenant);
        Assert.Equal(1, snapshot!.ActiveSessions);
        Assert.True(replica.Cache.TryGet(admitted.SessionId, out _));
    }

    [Fact]
    public async Task Preemption_is_forgotten_locally_before_the_admission_returns()
    {
        var replica = await StartReplica();
        await replica.Store.SetPlanAsync(_tenant, new TenantPlan(LicenseModel.RegisteredUsers, 5, []), false, "test");
        await replica.Store.SetUserActiveAsync(_tenant, "alice", true, "test");
        await replica.Store.SetUserActiveAsync(_tenant, "bob", true, "test");
        var borrowed = await replica.Admitter.AdmitAsync(Alice with { Device = "old" });
        await Task.Delay(5);
        await replica.Admitter.AdmitAsync(Alice);

        var bob = await replica.Admitter.AdmitAsync(new SessionIdentity(_tenant, "bob", ClientKind.Web, "b"));
        Assert.Equal(AdmissionOutcome.Preempted, bob.Outcome);
        Assert.False(replica.Cache.TryGet(borrowed.SessionId, out _));
    }
}
