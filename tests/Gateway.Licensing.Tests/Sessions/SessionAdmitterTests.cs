using Gateway.Licensing.Identity;
using Gateway.Licensing.Options;
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
    public async Task A_session_unconfirmed_for_nearly_the_idle_timeout_goes_back_to_the_store()
    {
        var replica = await StartReplica();
        await ConcurrentPlan(replica);
        await replica.Admitter.AdmitAsync(Alice);

        replica.Time.Advance(TimeSpan.FromMinutes(19));
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
