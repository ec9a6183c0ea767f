using Gateway.Licensing.Identity;
using Gateway.Licensing.Options;
using Gateway.Licensing.Results;
using Gateway.Licensing.Rules;
using Gateway.Licensing.Sessions;
using Gateway.Licensing.Store;
using Gateway.Licensing.Tests.Infrastructure;
using Gateway.Licensing.Tests.Support;
using StackExchange.Redis;

namespace Gateway.Licensing.Tests.Sessions;

/// <summary>
/// Open requests and connections on a session (<see cref="SessionUseTracker"/>), on the engine of one or
/// two replicas sharing a real redis-server. Local time is faked; passes and flushes are run by the test.
/// </summary>
[Collection("redis")]
public sealed class SessionUseTrackerTests(RedisServerFixture redis) : IAsyncLifetime
{
    private readonly string _tenant = "t-" + Guid.NewGuid().ToString("N")[..12];
    private readonly List<Replica> _replicas = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var r in _replicas) await r.DisposeAsync();
    }

    private async Task<Replica> StartReplica()
    {
        var replica = await Replica.StartAsync(redis.ConnectionString, new LicensingOptions(), _replicas.Count + 1);
        _replicas.Add(replica);
        return replica;
    }

    private SessionIdentity Alice => new(_tenant, "alice", ClientKind.Desktop, "pc-1");

    private sealed class TestUse(bool closesAtOnce = false) : SessionUse(closesAtOnce)
    {
        public int Aborts;

        protected override void OnAbort() => Interlocked.Increment(ref Aborts);
    }

    private async Task<(Replica Replica, AdmissionDecision Admitted, TestUse Use)> OpenAsync()
    {
        var replica = await StartReplica();
        await replica.Store.SetPlanAsync(_tenant, new TenantPlan(LicenseModel.ConcurrentSessions, 5, []), false, "test");
        var admitted = await replica.Admitter.AdmitAsync(Alice);
        Assert.NotNull(admitted.Entry);
        var use = new TestUse();
        replica.Uses.Opened(use, admitted.Entry!);
        return (replica, admitted, use);
    }

    [Fact]
    public async Task An_open_use_is_use_of_its_session_and_its_close_starts_the_idle_clock()
    {
        var (replica, admitted, use) = await OpenAsync();
        var entry = admitted.Entry!;
        var touch = replica.Options.EffectiveTouchInterval;

        // No request for several touch intervals: the open use alone keeps the session in use and touched.
        for (var i = 0; i < 3; i++)
        {
            replica.Time.Advance(touch);
            Assert.Equal(0, replica.Uses.Pass());
            Assert.Equal(replica.Time.GetTimestamp(), entry.LastRequestAt);
            Assert.Equal(1, replica.Touches.Pending);
            await replica.Touches.FlushAsync();
            Assert.Equal(replica.Time.GetTimestamp(), entry.ConfirmedAt);
        }

        replica.Time.Advance(TimeSpan.FromSeconds(10));
        replica.Uses.Closed(use);
        Assert.Equal(replica.Time.GetTimestamp(), entry.LastRequestAt);
        replica.Time.Advance(touch);
        replica.Uses.Pass();
        Assert.Equal(0, replica.Touches.Pending); // closed: no longer kept alive
        Assert.Equal(0, use.Aborts);
    }

    [Fact]
    public async Task An_open_use_is_aborted_once_when_its_session_ends_and_a_closed_one_never()
    {
        var (replica, admitted, use) = await OpenAsync();
        var closedEarlier = new TestUse();
        replica.Uses.Opened(closedEarlier, admitted.Entry!);
        replica.Uses.Closed(closedEarlier);
        replica.Uses.Pass();
        replica.Time.Advance(SessionUseTracker.Grace);

        // Open for half a second already (a WebSocket, a stream): closed as soon as the session ends.
        Assert.True(await replica.Store.EndSessionAsync(_tenant, admitted.SessionId, EndReason.Revoked, "admin"));
        Assert.True(admitted.Entry!.IsEnded);
        Assert.Equal(1, replica.Uses.Pass());
        Assert.Equal(0, replica.Uses.Pass());
        Assert.Equal(1, use.Aborts);
        Assert.Equal(0, closedEarlier.Aborts);
        replica.Uses.Closed(use); // the host's completion after the abort changes nothing
        Assert.Equal(1, use.Aborts);
    }

    [Fact]
    public async Task A_use_registered_on_a_session_that_has_just_ended_is_aborted()
    {
        var (replica, admitted, _) = await OpenAsync();
        replica.Cache.Ended(admitted.SessionId, replica.Time.GetTimestamp());
        replica.Uses.Pass();

        var late = new TestUse();
        replica.Uses.Opened(late, admitted.Entry!);
        Assert.Equal(1, replica.Cache.EndedSignal.CurrentCount); // the tracker is woken
        Assert.Equal(0, replica.Uses.Pass());
        replica.Time.Advance(SessionUseTracker.Grace);
        Assert.Equal(2, replica.Uses.Pass()); // both still open after their grace
        Assert.Equal(1, late.Aborts);
    }

    [Fact]
    public async Task An_upgraded_connection_is_closed_as_soon_as_its_session_ends()
    {
        var (replica, admitted, _) = await OpenAsync();
        var socket = new TestUse(closesAtOnce: true);
        replica.Uses.Opened(socket, admitted.Entry!);
        replica.Cache.Ended(admitted.SessionId, replica.Time.GetTimestamp());
        replica.Uses.Pass();
        Assert.Equal(1, socket.Aborts);
    }

    [Fact]
    public async Task A_request_in_flight_when_its_session_ends_may_still_complete_within_the_grace()
    {
        var (replica, admitted, use) = await OpenAsync();
        replica.Uses.Pass();
        Assert.True(await replica.Store.EndSessionAsync(_tenant, admitted.SessionId, EndReason.Revoked, "admin"));
        Assert.Equal(0, replica.Uses.Pass());
        replica.Time.Advance(SessionUseTracker.Grace - TimeSpan.FromMilliseconds(1));
        Assert.Equal(0, replica.Uses.Pass());
        replica.Uses.Closed(use); // its response completed
        replica.Time.Advance(SessionUseTracker.Grace);
        Assert.Equal(0, replica.Uses.Pass());
        Assert.Equal(0, use.Aborts);
    }

    [Fact]
    public async Task A_touch_that_finds_the_session_gone_aborts_its_open_uses()
    {
        var (replica, admitted, use) = await OpenAsync();
        // Ended elsewhere, and the announcement lost.
        var silent = new LicenseStore(replica.Connection, new StaticOptionsMonitor<LicensingOptions>(new LicensingOptions()), []);
        Assert.True(await silent.EndSessionAsync(_tenant, admitted.SessionId, EndReason.Revoked, "admin"));

        replica.Time.Advance(replica.Options.EffectiveTouchInterval);
        replica.Uses.Pass();
        await replica.Touches.FlushAsync();
        Assert.True(admitted.Entry!.IsEnded);
        replica.Time.Advance(SessionUseTracker.Grace);
        Assert.Equal(1, replica.Uses.Pass());
        Assert.Equal(1, use.Aborts);
    }

    [Fact]
    public async Task A_session_that_started_again_elsewhere_does_not_keep_an_old_use_open()
    {
        var (replica, admitted, use) = await OpenAsync();
        var other = await StartReplica();
        // Ended without an announcement, and started again (same id) through the other replica.
        var silent = new LicenseStore(replica.Connection, new StaticOptionsMonitor<LicensingOptions>(new LicensingOptions()), []);
        Assert.True(await silent.EndSessionAsync(_tenant, admitted.SessionId, EndReason.Revoked, "admin"));
        await Task.Delay(5);
        Assert.True((await other.Admitter.AdmitAsync(Alice)).StoreResult!.Created);

        replica.Time.Advance(replica.Options.EffectiveTouchInterval);
        replica.Uses.Pass();
        await replica.Touches.FlushAsync();
        replica.Time.Advance(SessionUseTracker.Grace);
        Assert.Equal(1, replica.Uses.Pass());
        Assert.Equal(1, use.Aborts);
        Assert.Equal(1, (await replica.Store.GetTenantAsync(_tenant))!.ActiveSessions); // the new session is untouched
    }

    [Fact]
    public async Task A_service_sessions_open_use_is_aborted_at_the_local_deadline()
    {
        var replica = await StartReplica();
        replica.Options.ServiceSessionLifetime = TimeSpan.FromMinutes(10);
        await replica.Store.SetPlanAsync(_tenant, new TenantPlan(LicenseModel.ConcurrentSessions, 5, []), false, "test");
        var admitted = await replica.Admitter.AdmitAsync(new SessionIdentity(_tenant, "batch", ClientKind.Service, "svc"));
        var entry = admitted.Entry!;
        Assert.NotEqual(long.MaxValue, entry.Deadline);
        var use = new TestUse();
        replica.Uses.Opened(use, entry);

        replica.Time.Advance(TimeSpan.FromMinutes(10) - TimeSpan.FromSeconds(1));
        Assert.Equal(0, replica.Uses.Pass());
        replica.Time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(1, replica.Uses.Pass());
        Assert.Equal(1, use.Aborts);
        Assert.False(replica.Cache.TryGet(admitted.SessionId, out _));
    }
}
