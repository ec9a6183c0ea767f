using Gateway.Licensing.Identity;
using Gateway.Licensing.Options;
using Gateway.Licensing.Results;
using Gateway.Licensing.Rules;
using Gateway.Licensing.Sessions;
using Gateway.Licensing.Store;
using Gateway.Licensing.Tests.Infrastructure;
using Gateway.Licensing.Tests.Store;
using Gateway.Licensing.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;
using StackExchange.Redis;

namespace Gateway.Licensing.Tests.Sessions;

/// <summary>
/// The background sweep visits only tenants the due index names as due, keeps every expiry on time,
/// takes turns between replicas, and its full pass finds what the index lost. Run on each store.
/// Expiry is timed by the store's real clock: waits are short, with margins for a busy machine.
/// </summary>
public abstract class DueSweepContractTests
{
    protected abstract IConnectionMultiplexer Connection { get; }

    private readonly string _tenant = "due-" + Guid.NewGuid().ToString("N")[..12];
    private readonly RecordingListener _listener = new();
    private readonly StaticOptionsMonitor<LicensingOptions> _options = new(new LicensingOptions { IdleTimeout = TimeSpan.FromSeconds(1), SweepInterval = TimeSpan.FromSeconds(30) });

    private LicenseStore? _store;

    private LicenseStore Store => _store ??= new LicenseStore(Connection, _options, [_listener]);

    private IDatabase Db => Connection.GetDatabase();

    private long WindowMs => (long)_options.CurrentValue.StoreIdleWindow.TotalMilliseconds;

    private SessionSweeper Sweeper(LicenseStore? store = null) =>
        new(store ?? Store, new LocalSessionCache(), _options, TimeProvider.System, NullLogger<SessionSweeper>.Instance);

    private Task<AdmissionResult> Admit(string user, ClientKind kind = ClientKind.Desktop, string? tenant = null) =>
        Store.AdmitAsync(new SessionIdentity(tenant ?? _tenant, user, kind, "d1"));

    private async Task Plan(string? tenant = null) =>
        await Store.SetPlanAsync(tenant ?? _tenant, new TenantPlan(LicenseModel.ConcurrentSessions, 50, []), false, "test");

    private async Task<long?> DueScore(string? tenant = null) =>
        (long?)await Db.SortedSetScoreAsync(TenantKeys.DueIndex, tenant ?? _tenant);

    private async Task<long> Recency(string sessionId) =>
        (long)(await Db.SortedSetScoreAsync(TenantKeys.For(_tenant)[TenantKeys.Recency], sessionId))!.Value;

    private async Task<long> LiveSessions(string? tenant = null) =>
        await Db.HashLengthAsync(TenantKeys.For(tenant ?? _tenant)[TenantKeys.Sessions]);

    // The index entry is written fire-and-forget after the admission's answer: wait for it to land.
    private async Task<long?> DueScoreSoon(string? tenant = null)
    {
        for (var i = 0; i < 100; i++)
        {
            if (await DueScore(tenant) is { } score) return score;
            await Task.Delay(20);
        }
        return null;
    }

    private static async Task WaitForStoreTime(LicenseStore store, long atMs)
    {
        while (await store.StoreTimeMsAsync() < atMs + 50) await Task.Delay(100);
    }

    [Fact]
    public async Task A_new_session_puts_its_tenant_in_the_index_at_its_exact_expiry_and_a_later_one_keeps_the_earlier_time()
    {
        await Plan();
        var first = await Admit("alice");
        Assert.True(first.Created);
        var due = await DueScoreSoon();
        Assert.Equal(await Recency(first.SessionId) + WindowMs, due);

        await Task.Delay(50);
        var second = await Admit("bob");
        Assert.True(second.Created);
        await Db.PingAsync();
        Assert.Equal(due, await DueScore());

        // A service session's deadline comes before its idle expiry when its lifetime is shorter.
        var service = new LicensingOptions { IdleTimeout = TimeSpan.FromMinutes(10), ServiceSessionLifetime = TimeSpan.FromSeconds(2) };
        var other = "due-" + Guid.NewGuid().ToString("N")[..12];
        var serviceStore = new LicenseStore(Connection, new StaticOptionsMonitor<LicensingOptions>(service), []);
        await serviceStore.SetPlanAsync(other, new TenantPlan(LicenseModel.ConcurrentSessions, 5, []), false, "test");
        var svc = await serviceStore.AdmitAsync(new SessionIdentity(other, "batch", ClientKind.Service, "svc"));
        var deadline = (long)(await Db.SortedSetScoreAsync(TenantKeys.For(other)[TenantKeys.Service], svc.SessionId))!.Value;
        Assert.Equal(deadline, await DueScoreSoon(other));
    }

    [Fact]
    public async Task A_user_registered_without_a_session_puts_the_tenant_in_the_index_at_the_end_of_their_retention()
    {
        _options.CurrentValue.UserRetention = TimeSpan.FromSeconds(4);
        await Store.SetPlanAsync(_tenant, new TenantPlan(LicenseModel.RegisteredUsers, 5, []), false, "test");
        Assert.Equal(AdmissionOutcome.UserInactive, (await Admit("stranger")).Outcome);
        var registered = (long)(await Db.SortedSetScoreAsync(TenantKeys.For(_tenant)[TenantKeys.Unused], "stranger"))!.Value;
        Assert.Equal(registered + 4000, await DueScoreSoon());

        await WaitForStoreTime(Store, registered + 4000);
        await Sweeper().SweepDueAsync();
        Assert.Null(await Db.SortedSetScoreAsync(TenantKeys.For(_tenant)[TenantKeys.Users], "stranger"));
        Assert.Null(await DueScore());

        // An admin registering an inactive user: the next due sweep files the tenant at the exact time.
        await Store.SetUserActiveAsync(_tenant, "admin-made", false, "admin");
        Assert.Equal(0, await DueScoreSoon());
        await Sweeper().SweepDueAsync();
        var madeAt = (long)(await Db.SortedSetScoreAsync(TenantKeys.For(_tenant)[TenantKeys.Unused], "admin-made"))!.Value;
        Assert.Equal(madeAt + 4000, await DueScore());
    }

    [Fact]
    public async Task The_due_sweep_ends_each_session_when_it_is_due_and_reschedules_the_tenant_at_the_next_exact_expiry()
    {
        _options.CurrentValue.IdleTimeout = TimeSpan.FromSeconds(4);
        await Plan();
        var first = await Admit("alice");
        var firstDue = (await DueScoreSoon())!.Value;
        await WaitForStoreTime(Store, firstDue - 2500);
        var second = await Admit("bob");
        var secondDue = await Recency(second.SessionId) + WindowMs;

        await WaitForStoreTime(Store, firstDue);
        Assert.True(await Sweeper().SweepDueAsync() >= 1);
        Assert.Equal([EndReason.Idle], _listener.Reasons(first.SessionId));
        Assert.Empty(_listener.Reasons(second.SessionId));
        Assert.Equal(secondDue, await DueScore());

        await WaitForStoreTime(Store, secondDue);
        await Sweeper().SweepDueAsync();
        Assert.Equal([EndReason.Idle], _listener.Reasons(second.SessionId));
        Assert.Equal(0, await LiveSessions());
    }

    [Fact]
    public async Task A_tenant_with_nothing_due_is_not_swept_and_the_full_pass_sweeps_every_tenant()
    {
        // Indexed under a 10 minute idle timeout; the timeout then drops to 1 s. The session is expired
        // for the sweep script, but the index says nothing is due for ten minutes: the due sweep must not
        // run the tenant's script at all, so the session stays until the full pass.
        _options.CurrentValue.IdleTimeout = TimeSpan.FromMinutes(10);
        await Plan();
        var session = await Admit("alice");
        var indexed = (await DueScoreSoon())!.Value;
        _options.CurrentValue.IdleTimeout = TimeSpan.FromSeconds(1);
        await WaitForStoreTime(Store, await Recency(session.SessionId) + WindowMs);

        await Sweeper().SweepDueAsync();
        Assert.Equal(1, await LiveSessions());
        Assert.Equal(indexed, await DueScore());

        await Sweeper().SweepAllAsync();
        Assert.Equal([EndReason.Idle], _listener.Reasons(session.SessionId));
        Assert.Equal(0, await LiveSessions());
    }

    [Fact]
    public async Task The_full_pass_finds_a_tenant_missing_from_the_index_and_puts_it_back()
    {
        _options.CurrentValue.IdleTimeout = TimeSpan.FromSeconds(6);
        await Plan();
        var expired = await Admit("alice");
        var expiredDue = (await DueScoreSoon())!.Value;
        await WaitForStoreTime(Store, expiredDue - 3000);
        var live = await Admit("bob");
        // The index entry is lost (a connection dropped after the script, a replica stopped mid-sweep).
        await Db.SortedSetRemoveAsync(TenantKeys.DueIndex, _tenant);
        await WaitForStoreTime(Store, expiredDue);

        await Sweeper().SweepDueAsync();
        Assert.Equal(2, await LiveSessions());

        await Sweeper().SweepAllAsync();
        Assert.Equal([EndReason.Idle], _listener.Reasons(expired.SessionId));
        Assert.Empty(_listener.Reasons(live.SessionId));
        Assert.Equal(await Recency(live.SessionId) + WindowMs, await DueScore());
    }

    [Fact]
    public async Task Three_replicas_sweeping_at_once_take_turns_and_end_each_session_once()
    {
        var tenants = Enumerable.Range(0, 5).Select(i => $"{_tenant}-{i}").ToArray();
        var sessions = new List<string>();
        foreach (var t in tenants)
        {
            await Plan(t);
            sessions.Add((await Admit("alice", tenant: t)).SessionId);
        }
        foreach (var t in tenants) await DueScoreSoon(t);
        await WaitForStoreTime(Store, (await DueScore(tenants[^1]))!.Value);
        foreach (var lease in TenantKeys.SweepKeys.Skip(1)) await Db.KeyDeleteAsync(lease);

        var replicas = new List<ConnectionMultiplexer>();
        try
        {
            var sweepers = new List<SessionSweeper>();
            for (var r = 0; r < 3; r++)
            {
                var connection = await ConnectionMultiplexer.ConnectAsync(Connection.Configuration);
                replicas.Add(connection);
                sweepers.Add(Sweeper(new LicenseStore(connection, _options, [_listener])));
            }
            var passes = await Task.WhenAll(sweepers.Select(s => s.SweepOnceAsync()));

            Assert.Single(passes, p => p.DueTenants is not null);
            Assert.Single(passes, p => p.AllTenants is not null);
            Assert.All(sessions, s => Assert.Equal([EndReason.Idle], _listener.Reasons(s)));
            foreach (var t in tenants) Assert.Equal(0, await LiveSessions(t));

            // Within the interval, the lease holder's turn is not over: nobody sweeps again.
            var again = await Task.WhenAll(sweepers.Select(s => s.SweepOnceAsync()));
            Assert.All(again, p => Assert.Null(p.DueTenants));
        }
        finally
        {
            foreach (var c in replicas) await c.DisposeAsync();
        }
    }
}

/// <summary>The due sweep on a real redis-server.</summary>
[Collection("redis")]
public sealed class RedisDueSweepTests(RedisServerFixture redis) : DueSweepContractTests
{
    protected override IConnectionMultiplexer Connection => redis.Connection;
}

/// <summary>The due sweep on a 3-node Redis Cluster: the index and leases live outside the tenants' slots.</summary>
[Collection("redis-cluster")]
public sealed class ClusterDueSweepTests(RedisClusterFixture cluster) : DueSweepContractTests
{
    protected override IConnectionMultiplexer Connection => cluster.Connection;
}

/// <summary>The due sweep on the embedded store.</summary>
public sealed class EmbeddedDueSweepTests(EmbeddedStoreFixture embedded) : DueSweepContractTests, IClassFixture<EmbeddedStoreFixture>
{
    protected override IConnectionMultiplexer Connection => embedded.Connection;
}
