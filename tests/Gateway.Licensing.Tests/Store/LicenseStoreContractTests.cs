using Gateway.Licensing.Identity;
using Gateway.Licensing.Options;
using Gateway.Licensing.Results;
using Gateway.Licensing.Rules;
using Gateway.Licensing.Sessions;
using Gateway.Licensing.Store;
using Gateway.Licensing.Tests.Support;
using StackExchange.Redis;

namespace Gateway.Licensing.Tests.Store;

/// <summary>
/// The licensing rules (docs/licensing-rules.md, docs/sessions.md), run against a real store. Each concrete subclass supplies one
/// store (redis-server, the embedded store, Redis Cluster); every rule must hold on all of them.
/// Every test uses its own tenant, so tests share one server without interfering.
/// </summary>
public abstract partial class LicenseStoreContractTests
{
    protected abstract IConnectionMultiplexer Connection { get; }

    private readonly string _tenant = "t-" + Guid.NewGuid().ToString("N")[..12];
    private readonly RecordingListener _listener = new();
    private readonly StaticOptionsMonitor<LicensingOptions> _options = new(new LicensingOptions());

    private LicenseStore? _store;

    private LicenseStore Store => _store ??= new LicenseStore(Connection, _options, [_listener]);

    private LicensingOptions Options => _options.CurrentValue;

    private SessionIdentity Id(string user, string device = "d1", ClientKind kind = ClientKind.Desktop) =>
        new(_tenant, user, kind, device);

    private Task<AdmissionResult> Admit(string user, string device = "d1", ClientKind kind = ClientKind.Desktop) =>
        Store.AdmitAsync(Id(user, device, kind));

    private async Task Plan(LicenseModel model, int seatLimit, params string[] activeUsers)
    {
        await Store.SetPlanAsync(_tenant, new TenantPlan(model, seatLimit, []), false, "test");
        foreach (var u in activeUsers)
        {
            var r = await Store.SetUserActiveAsync(_tenant, u, true, "test");
            Assert.NotEqual(ActivationStatus.SeatLimitReached, r.Status);
        }
    }

    private async Task<int> ActiveSessions() => (await Store.GetTenantAsync(_tenant))!.ActiveSessions;

    [Fact]
    public async Task Tenant_without_plan_is_unlicensed()
    {
        var result = await Admit("alice");
        Assert.Equal(AdmissionOutcome.TenantUnlicensed, result.Outcome);
        Assert.Null(await Store.GetTenantAsync(_tenant));
    }

    [Fact]
    public async Task Scripts_are_sent_again_after_the_store_forgets_them()
    {
        await Plan(LicenseModel.ConcurrentSessions, 5);
        Assert.True((await Admit("alice")).Created);
        foreach (var server in Connection.GetServers()) await server.ScriptFlushAsync();
        Assert.False((await Admit("alice")).Created);
        Assert.True((await Admit("bob")).Created);
    }

    [Fact]
    public async Task Registered_users_first_seen_user_is_registered_inactive_and_refused()
    {
        await Plan(LicenseModel.RegisteredUsers, 5);
        var result = await Admit("newcomer");
        Assert.Equal(AdmissionOutcome.UserInactive, result.Outcome);
        Assert.True(await Connection.GetDatabase().SortedSetScoreAsync(TenantKeys.For(_tenant)[TenantKeys.Users], "newcomer") is not null);
        Assert.Equal(0, await ActiveSessions());
    }

    [Fact]
    public async Task Active_user_is_admitted_and_readmission_refreshes_without_double_counting()
    {
        await Plan(LicenseModel.RegisteredUsers, 5, "alice");
        var first = await Admit("alice");
        var again = await Admit("alice");
        Assert.Equal(AdmissionOutcome.Admitted, first.Outcome);
        Assert.True(first.Created);
        Assert.Equal(AdmissionOutcome.Admitted, again.Outcome);
        Assert.False(again.Created);
        Assert.Equal(first.SessionId, again.SessionId);
        Assert.Equal(1, await ActiveSessions());
    }

    [Fact]
    public async Task A_started_session_is_described_as_its_next_admission_describes_it()
    {
        // The reply to a start is written from what the script just stored, without reading it back;
        // a re-admission reads the store, so the two must agree.
        Options.ServiceSessionLifetime = TimeSpan.FromMinutes(10);
        await Plan(LicenseModel.RegisteredUsers, 3, "alice", "bob", "carol");
        var service = await Admit("alice", "svc", ClientKind.Service);
        var again = await Admit("alice", "svc", ClientKind.Service);
        Assert.True(service.Created);
        Assert.False(again.Created);
        Assert.Equal(again.SessionStartedMs, service.SessionStartedMs);
        Assert.Equal(TimeSpan.FromMinutes(10), service.LifetimeLeft);
        Assert.InRange(again.LifetimeLeft!.Value, TimeSpan.FromMinutes(9), TimeSpan.FromMinutes(10));
        Assert.Equal(1, service.ActiveSessions);

        await Task.Delay(5);
        var desktop = await Admit("alice", "a2"); // alice's own session now: svc is borrowed
        Assert.True(desktop.Created);
        Assert.Null(desktop.LifetimeLeft);
        Assert.Equal(2, desktop.ActiveSessions);
        Assert.Equal(3, (await Admit("bob", "b1")).ActiveSessions);

        var preempting = await Admit("carol", "c1");
        Assert.Equal(AdmissionOutcome.Preempted, preempting.Outcome);
        Assert.Equal([service.SessionId], preempting.PreemptedSessionIds);
        Assert.Equal(3, preempting.ActiveSessions);
        Assert.Null(preempting.LifetimeLeft);
        var carolAgain = await Admit("carol", "c1");
        Assert.Equal(carolAgain.SessionStartedMs, preempting.SessionStartedMs);
        Assert.Equal(carolAgain.ActiveSessions, preempting.ActiveSessions);
    }

    [Fact]
    public async Task User_without_session_preempts_least_recently_used_borrowed_session()
    {
        await Plan(LicenseModel.RegisteredUsers, 10, "alice", "bob", "carol");
        var a1 = await Admit("alice", "a1");
        var b1 = await Admit("bob", "b1");
        await Task.Delay(5);
        var a2 = await Admit("alice", "a2");  // borrowed: alice's most recent is a2, so a1 is borrowed
        Assert.Equal(AdmissionOutcome.Admitted, a2.Outcome);
        await Task.Delay(5);
        await Admit("alice", "a1");           // a1 used again: now a2 is alice's borrowed one
        Assert.Equal(3, await ActiveSessions());

        var c1 = await Admit("carol", "c1");
        Assert.Equal(AdmissionOutcome.Preempted, c1.Outcome);
        Assert.Equal([a2.SessionId], c1.PreemptedSessionIds);
        Assert.Equal([EndReason.Preempted], _listener.Reasons(a2.SessionId));
        Assert.Equal(3, await ActiveSessions());
        Assert.Equal(AdmissionOutcome.Admitted, (await Admit("alice", "a1")).Outcome);
        Assert.Equal(AdmissionOutcome.Admitted, (await Admit("bob", "b1")).Outcome);
        Assert.False((await Admit("bob", "b1")).Created);
        _ = b1;
    }

    [Fact]
    public async Task Preemption_picks_the_oldest_borrowed_session_across_users()
    {
        await Plan(LicenseModel.RegisteredUsers, 10, "alice", "bob", "carol", "dave");
        await Admit("alice", "a1");
        await Admit("bob", "b1");
        await Task.Delay(5);
        var bobBorrowed = await Admit("bob", "b2");
        await Task.Delay(5);
        var aliceBorrowed = await Admit("alice", "a2");
        await Task.Delay(5);
        // Most recent per user: alice a2 and bob b2 are own... refresh a1/b1 so a2/b2 are borrowed.
        await Admit("bob", "b1");
        await Task.Delay(5);
        await Admit("alice", "a1");
        Assert.Equal(4, await ActiveSessions());

        var carol = await Admit("carol");
        Assert.Equal([bobBorrowed.SessionId], carol.PreemptedSessionIds);
        var dave = await Admit("dave");
        Assert.Equal([aliceBorrowed.SessionId], dave.PreemptedSessionIds);
        Assert.Equal(4, await ActiveSessions());
    }

    [Fact]
    public async Task Reject_at_capacity_turns_preemption_off()
    {
        Options.AtCapacity = AtCapacityBehavior.Reject;
        await Plan(LicenseModel.RegisteredUsers, 10, "alice", "bob");
        var a1 = await Admit("alice", "a1");
        var a2 = await Admit("alice", "a2");
        var bob = await Admit("bob");
        Assert.Equal(AdmissionOutcome.SeatsExhausted, bob.Outcome);
        Assert.Empty(_listener.Ended);
        Assert.Equal(2, bob.ActiveSessions);
        Assert.Equal(10, bob.SeatLimit);
        Assert.True(bob.RetryAfter >= TimeSpan.FromSeconds(1));
        Assert.True(bob.RetryAfter <= Options.StoreIdleWindow); // until the oldest session would idle out
        _ = (a1, a2);
    }

    [Fact]
    public async Task User_with_a_session_gets_another_only_below_cap_and_sees_own_sessions_when_refused()
    {
        await Plan(LicenseModel.RegisteredUsers, 10, "alice", "bob");
        var a1 = await Admit("alice", "a1");
        var a2 = await Admit("alice", "a2");
        var a3 = await Admit("alice", "a3");
        Assert.Equal(AdmissionOutcome.Admitted, a2.Outcome);
        Assert.Equal(AdmissionOutcome.SeatsExhausted, a3.Outcome);
        Assert.Equal(new[] { a1.SessionId, a2.SessionId }.Order(), a3.YourSessions.Order());
        Assert.Equal(2, await ActiveSessions());
    }

    [Fact]
    public async Task Auto_activate_activates_first_seen_users_while_seats_are_free_and_never_reactivates()
    {
        Options.AutoActivate = true;
        await Plan(LicenseModel.RegisteredUsers, 2);
        Assert.Equal(AdmissionOutcome.Admitted, (await Admit("u1")).Outcome);
        Assert.Equal(AdmissionOutcome.Admitted, (await Admit("u2")).Outcome);
        Assert.Equal(AdmissionOutcome.UserInactive, (await Admit("u3")).Outcome);

        await Store.SetUserActiveAsync(_tenant, "u1", false, "admin");
        Assert.Equal(AdmissionOutcome.UserInactive, (await Admit("u1")).Outcome);
        Assert.Equal(1, (await Store.GetTenantAsync(_tenant))!.ActiveUsers);
    }

    [Fact]
    public async Task Activation_is_refused_at_the_seat_limit()
    {
        await Plan(LicenseModel.RegisteredUsers, 2, "a", "b");
        var result = await Store.SetUserActiveAsync(_tenant, "c", true, "admin");
        Assert.Equal(ActivationStatus.SeatLimitReached, result.Status);
        Assert.Equal(2, (await Store.GetTenantAsync(_tenant))!.ActiveUsers);
        Assert.Equal(ActivationStatus.Unchanged, (await Store.SetUserActiveAsync(_tenant, "a", true, "admin")).Status);
        Assert.Equal(ActivationStatus.Created, (await Store.SetUserActiveAsync(_tenant, "z", false, "admin")).Status);
    }

    [Fact]
    public async Task Deactivation_ends_the_users_sessions_and_trims_borrowed_sessions_above_the_new_cap()
    {
        await Plan(LicenseModel.RegisteredUsers, 10, "alice", "bob", "carol");
        await Admit("alice", "a1");
        await Task.Delay(5);
        var aliceBorrowed1 = await Admit("alice", "a2");
        await Task.Delay(5);
        await Admit("alice", "a1");
        var bob = await Admit("bob");
        Assert.Equal(3, await ActiveSessions());

        var result = await Store.SetUserActiveAsync(_tenant, "bob", false, "admin");
        Assert.Equal(ActivationStatus.Updated, result.Status);
        Assert.Equal([EndReason.Deactivated], _listener.Reasons(bob.SessionId));
        // Cap is now 2 active users (alice, carol): 2 sessions remain.
        Assert.Equal(2, await ActiveSessions());

        await Store.SetUserActiveAsync(_tenant, "carol", false, "admin");
        // Cap 1: alice's borrowed session ends too.
        Assert.Equal(1, await ActiveSessions());
        Assert.Equal([EndReason.Revoked], _listener.Reasons(aliceBorrowed1.SessionId));
        Assert.Equal(AdmissionOutcome.UserInactive, (await Admit("bob")).Outcome);
    }

    [Fact]
    public async Task Concurrent_sessions_cap_is_the_seat_limit_for_any_user()
    {
        await Plan(LicenseModel.ConcurrentSessions, 2);
        Assert.Equal(AdmissionOutcome.Admitted, (await Admit("x")).Outcome);
        Assert.Equal(AdmissionOutcome.Admitted, (await Admit("x", "d2")).Outcome);
        var third = await Admit("y");
        Assert.Equal(AdmissionOutcome.SeatsExhausted, third.Outcome);
        Assert.Equal(2, third.ActiveSessions);
    }

    [Fact]
    public async Task Concurrent_sessions_hold_seats_for_reserved_users_and_let_them_preempt()
    {
        await Store.SetPlanAsync(_tenant, new TenantPlan(LicenseModel.ConcurrentSessions, 3, ["boss"]), false, "test");
        var x = await Admit("x");
        await Task.Delay(5);
        var y = await Admit("y");
        // One seat is held back for the boss.
        Assert.Equal(AdmissionOutcome.SeatsExhausted, (await Admit("z")).Outcome);
        Assert.Equal(AdmissionOutcome.Admitted, (await Admit("boss")).Outcome);
        // The boss's second session is an ordinary one: refused at the limit.
        Assert.Equal(AdmissionOutcome.SeatsExhausted, (await Admit("boss", "d2")).Outcome);

        await Store.EndSessionAsync(_tenant, (await Admit("boss")).SessionId, EndReason.Logout, "boss");
        Assert.Equal(AdmissionOutcome.SeatsExhausted, (await Admit("z")).Outcome);
        // Fill the tenant while the boss is away (the reserved seat is kept, so only by plan change).
        await Store.SetPlanAsync(_tenant, new TenantPlan(LicenseModel.ConcurrentSessions, 3, []), false, "test");
        Assert.Equal(AdmissionOutcome.Admitted, (await Admit("z")).Outcome);
        await Store.SetPlanAsync(_tenant, new TenantPlan(LicenseModel.ConcurrentSessions, 3, ["boss"]), false, "test");
        var boss = await Admit("boss");
        Assert.Equal(AdmissionOutcome.Preempted, boss.Outcome);
        Assert.Equal([x.SessionId], boss.PreemptedSessionIds);
        _ = y;
    }

    [Fact]
    public async Task Plan_change_ends_sessions_of_inactive_users_first_then_trims_to_the_cap()
    {
        await Plan(LicenseModel.ConcurrentSessions, 5, "alice");
        var alice = await Admit("alice");
        await Task.Delay(5);
        var guest1 = await Admit("guest", "g1");
        await Task.Delay(5);
        var guest2 = await Admit("guest", "g2");
        Assert.Equal(3, await ActiveSessions());

        var change = await Store.SetPlanAsync(_tenant, new TenantPlan(LicenseModel.RegisteredUsers, 5, []), false, "admin");
        Assert.Equal(PlanChangeStatus.Updated, change.Status);
        Assert.Equal(new[] { guest1.SessionId, guest2.SessionId }.Order(), change.EndedSessionIds.Order());
        Assert.Equal([EndReason.Revoked], _listener.Reasons(guest1.SessionId));
        Assert.Equal(1, await ActiveSessions());
        Assert.False((await Admit("alice")).Created);
        _ = alice;
    }

    [Fact]
    public async Task Lowering_the_seat_limit_trims_borrowed_then_least_recently_used_sessions()
    {
        await Plan(LicenseModel.ConcurrentSessions, 5);
        var u1 = await Admit("u1");
        await Task.Delay(5);
        var u2 = await Admit("u2");
        await Task.Delay(5);
        var u2b = await Admit("u2", "second");
        await Task.Delay(5);
        var u3 = await Admit("u3");

        var change = await Store.SetPlanAsync(_tenant, new TenantPlan(LicenseModel.ConcurrentSessions, 2, []), false, "admin");
        // u2's older session is borrowed and goes first; then the least recently used other (u1).
        Assert.Equal(new[] { u2.SessionId, u1.SessionId }.Order(), change.EndedSessionIds.Order());
        Assert.Equal(2, await ActiveSessions());
        _ = (u2b, u3);
    }

    [Fact]
    public async Task Plan_change_refuses_a_limit_below_active_users_and_config_plans_are_refused_through_the_api()
    {
        await Plan(LicenseModel.RegisteredUsers, 3, "a", "b", "c");
        var lower = await Store.SetPlanAsync(_tenant, new TenantPlan(LicenseModel.RegisteredUsers, 2, []), false, "admin");
        Assert.Equal(PlanChangeStatus.SeatLimitBelowActiveUsers, lower.Status);
        Assert.Equal(3, (await Store.GetTenantAsync(_tenant))!.SeatLimit);

        var config = await Store.SetPlanAsync(_tenant, new TenantPlan(LicenseModel.RegisteredUsers, 4, []), true, "configuration");
        Assert.Equal(PlanChangeStatus.Updated, config.Status);
        var api = await Store.SetPlanAsync(_tenant, new TenantPlan(LicenseModel.RegisteredUsers, 9, []), false, "admin");
        Assert.Equal(PlanChangeStatus.ManagedByConfig, api.Status);
        var snapshot = (await Store.GetTenantAsync(_tenant))!;
        Assert.Equal(4, snapshot.SeatLimit);
        Assert.True(snapshot.ManagedByConfig);
    }

    [Fact]
    public async Task Lowering_a_concurrent_sessions_plan_never_ends_a_reserved_users_own_session_while_another_can_go()
    {
        Options.AtCapacity = AtCapacityBehavior.Reject;
        await Store.SetPlanAsync(_tenant, new TenantPlan(LicenseModel.ConcurrentSessions, 3, ["boss"]), false, "test");
        var boss = await Admit("boss");    // the least recently used session of the tenant
        await Task.Delay(5);
        var x = await Admit("x");
        await Task.Delay(5);
        var y = await Admit("y");

        var change = await Store.SetPlanAsync(_tenant, new TenantPlan(LicenseModel.ConcurrentSessions, 2, ["boss"]), false, "admin");

        Assert.Equal([x.SessionId], change.EndedSessionIds);
        Assert.Equal(2, await ActiveSessions());
        // The reserved user keeps the session, so AtCapacity=Reject cannot lock them out.
        Assert.False((await Admit("boss")).Created);
        _ = (boss, y);
    }

    [Fact]
    public async Task Session_churn_does_not_evict_admin_history_and_the_trail_still_pages_newest_first()
    {
        Options.AuditCapacity = 10;
        await Plan(LicenseModel.RegisteredUsers, 5, "alice", "bob");
        for (var i = 0; i < 30; i++)
        {
            var s = await Admit("alice", $"d{i}");
            await Store.EndSessionAsync(_tenant, s.SessionId, EndReason.Logout, "alice");
        }
        // Each log keeps exactly its capacity, however the writes that passed it were spread over scripts.
        var keys = TenantKeys.For(_tenant);
        Assert.Equal(10, await Connection.GetDatabase().ListLengthAsync(keys[TenantKeys.SessionLog]));
        Assert.True(await Connection.GetDatabase().ListLengthAsync(keys[TenantKeys.Audit]) < 10);

        var queries = new LicenseQueries(Connection, _options);
        var all = (await queries.ListAuditAsync(_tenant, null, null, 1000)).Entries;
        Assert.Contains(all, e => e.Action == "plan-changed");
        Assert.Contains(all, e => e.Action == "user-activated" && e.UserId == "alice");
        Assert.Contains(all, e => e.Action == "user-activated" && e.UserId == "bob");
        Assert.Contains(all, e => e.Action == "session-ended");
        Assert.Equal(all.OrderByDescending(e => e.AtMs).Select(e => e.AtMs), all.Select(e => e.AtMs));

        // Pages of 3 walk exactly the same entries.
        var walked = new List<AuditEntry>();
        AuditCursor? cursor = null;
        do
        {
            var page = await queries.ListAuditAsync(_tenant, null, cursor, 3);
            walked.AddRange(page.Entries);
            cursor = page.Next;
        } while (cursor is not null);
        Assert.Equal(all.Select(e => (e.AtMs, e.Action, e.SessionId, e.UserId)), walked.Select(e => (e.AtMs, e.Action, e.SessionId, e.UserId)));
    }

    [Fact]
    public async Task The_admin_trail_keeps_exactly_its_capacity()
    {
        Options.AuditCapacity = 10;
        await Plan(LicenseModel.ConcurrentSessions, 5);
        for (var i = 0; i < 15; i++) await Store.SetUserActiveAsync(_tenant, $"u{i}", false, "admin");

        var trail = await Connection.GetDatabase().ListRangeAsync(TenantKeys.For(_tenant)[TenantKeys.Audit]);

        Assert.Equal(10, trail.Length);
        Assert.Contains("u14", (string?)trail[0]);
    }

    [Fact]
    public async Task A_tenant_with_a_plan_that_the_registry_lost_is_registered_again_by_its_traffic()
    {
        await Plan(LicenseModel.ConcurrentSessions, 5);
        Assert.Contains(_tenant, await Store.ListTenantsAsync());
        await Connection.GetDatabase().SetRemoveAsync(TenantKeys.Registry, _tenant);

        // Another replica (or a restart) admits the tenant's next session.
        var replica = new LicenseStore(Connection, _options, []);
        Assert.True((await replica.AdmitAsync(Id("alice"))).IsAdmitted);

        Assert.Contains(_tenant, await Store.ListTenantsAsync());
    }

    [Fact]
    public async Task A_user_at_the_per_user_limit_is_refused_with_their_sessions_and_the_plans_value_wins_over_the_default()
    {
        Options.MaxSessionsPerUser = 2;
        await Plan(LicenseModel.ConcurrentSessions, 10);
        var d1 = await Admit("greedy", "d1");
        var d2 = await Admit("greedy", "d2");
        var d3 = await Admit("greedy", "d3");
        Assert.Equal(AdmissionOutcome.UserSessionsExhausted, d3.Outcome);
        Assert.Equal(new[] { d1.SessionId, d2.SessionId }.Order(), d3.YourSessions.Order());
        Assert.Equal(TimeSpan.Zero, d3.RetryAfter);
        await Task.Delay(5);
        Assert.False((await Admit("greedy", "d1")).Created);        // its own sessions keep working
        Assert.True((await Admit("other")).Created);               // a user without a session is never stopped by it

        // The plan's own value wins, 0 included (no limit for this tenant).
        await Store.SetPlanAsync(_tenant, new TenantPlan(LicenseModel.ConcurrentSessions, 10, []) { MaxSessionsPerUser = 0 }, false, "op");
        Assert.Equal(0, (await Store.GetTenantAsync(_tenant))!.MaxSessionsPerUser);
        await Task.Delay(5);
        Assert.True((await Admit("greedy", "d3")).IsAdmitted);
        await Task.Delay(5);
        Assert.True((await Admit("greedy", "d4")).IsAdmitted);

        // Lowering the plan's value ends each user's least recently used sessions above it.
        var change = await Store.SetPlanAsync(_tenant, new TenantPlan(LicenseModel.ConcurrentSessions, 10, []) { MaxSessionsPerUser = 3 }, false, "op");
        Assert.Equal([d2.SessionId], change.EndedSessionIds);
        Assert.Equal([EndReason.Revoked], _listener.Reasons(d2.SessionId));
        Assert.Equal(AdmissionOutcome.UserSessionsExhausted, (await Admit("greedy", "d5")).Outcome);

        // Without the field the plan follows the default again.
        await Store.SetPlanAsync(_tenant, new TenantPlan(LicenseModel.ConcurrentSessions, 10, []), false, "op");
        Assert.Null((await Store.GetTenantAsync(_tenant))!.MaxSessionsPerUser);
    }

    [Fact]
    public async Task Registered_users_per_user_limit_applies_after_the_activity_check()
    {
        Options.MaxSessionsPerUser = 1;
        await Plan(LicenseModel.RegisteredUsers, 5, "alice");
        Assert.Equal(AdmissionOutcome.UserInactive, (await Admit("nobody", "d1")).Outcome);
        Assert.True((await Admit("alice", "d1")).IsAdmitted);
        var second = await Admit("alice", "d2");
        Assert.Equal(AdmissionOutcome.UserSessionsExhausted, second.Outcome);
        Assert.Single(second.YourSessions);
    }

    [Fact]
    public async Task The_user_quota_bounds_registrations_by_sighting_activation_bulk_change_and_swap()
    {
        Options.MaxUsersPerTenant = 3;
        await Plan(LicenseModel.RegisteredUsers, 10, "a1");
        Assert.Equal(AdmissionOutcome.UserInactive, (await Admit("seen1")).Outcome);
        Assert.Equal(AdmissionOutcome.UserInactive, (await Admit("seen2")).Outcome);
        // The tenant is full: a first sighting registers nobody and gets what an unregistered user gets.
        Assert.Equal(AdmissionOutcome.UserInactive, (await Admit("seen3")).Outcome);
        var db = Connection.GetDatabase();
        var keys = TenantKeys.For(_tenant);
        Assert.Equal(3, await db.SortedSetLengthAsync(keys[TenantKeys.Users]));
        Assert.Null(await db.SortedSetScoreAsync(keys[TenantKeys.Users], "seen3"));
        Assert.False(await db.HashExistsAsync(keys[TenantKeys.Seen], "seen3"));

        Assert.Equal(ActivationStatus.UserLimitReached, (await Store.SetUserActiveAsync(_tenant, "new", true, "admin")).Status);
        Assert.Equal(ActivationStatus.UserLimitReached, (await Store.SetUserActiveAsync(_tenant, "new", false, "admin")).Status);
        Assert.Equal(ActivationStatus.UserLimitReached, (await Store.SetUsersActiveAsync(_tenant, [("seen1", true), ("new", true)], "admin")).Status);
        Assert.Equal(ActivationStatus.UserLimitReached, (await Store.SwapUsersAsync(_tenant, "a1", "new", "admin")).Status);
        Assert.Equal(3, await db.SortedSetLengthAsync(keys[TenantKeys.Users]));
        Assert.Equal(1, (await Store.GetTenantAsync(_tenant))!.ActiveUsers);
        // Known users still change state.
        Assert.Equal(ActivationStatus.Updated, (await Store.SetUserActiveAsync(_tenant, "seen1", true, "admin")).Status);
        Assert.Equal(ActivationStatus.Updated, (await Store.SwapUsersAsync(_tenant, "seen1", "seen2", "admin")).Status);

        // Under ConcurrentSessions an unregistered user connects like anyone, and leaves nothing behind.
        await Store.SetPlanAsync(_tenant, new TenantPlan(LicenseModel.ConcurrentSessions, 10, []), false, "op");
        var guest = await Admit("guest");
        Assert.True(guest.IsAdmitted);
        Assert.Null(await db.SortedSetScoreAsync(keys[TenantKeys.Users], "guest"));
        await Store.TouchAsync(_tenant, [guest.SessionId]);
        await Store.EndSessionAsync(_tenant, guest.SessionId, EndReason.Logout, "guest");
        Assert.False(await db.HashExistsAsync(keys[TenantKeys.Seen], "guest"));
    }

    [Fact]
    public async Task The_sweep_forgets_users_who_were_never_active_after_the_retention_and_keeps_the_others()
    {
        Options.UserRetention = TimeSpan.FromSeconds(1);
        await Plan(LicenseModel.ConcurrentSessions, 10);
        await Store.SetUserActiveAsync(_tenant, "admin-made", false, "admin");     // registered inactive by an admin
        await Store.SetUserActiveAsync(_tenant, "was-active", true, "admin");
        await Store.SetUserActiveAsync(_tenant, "was-active", false, "admin");
        await Store.SetUserActiveAsync(_tenant, "active", true, "admin");
        await Admit("passer-by");
        var holder = await Admit("holder");
        await Store.EndSessionAsync(_tenant, (await Admit("passer-by")).SessionId, EndReason.Logout, "passer-by");

        await Task.Delay(1300);
        await Store.TouchAsync(_tenant, [holder.SessionId]);   // still in use, without a new sighting
        var swept = await Store.SweepAsync(_tenant);

        Assert.Equal(2, swept.ForgottenUsers);
        var users = (await new LicenseQueries(Connection, _options).ListUsersAsync(_tenant, null, null, 100)).Users.Select(u => u.UserId);
        Assert.Equal(new[] { "active", "holder", "was-active" }, users);
        Assert.False(await Connection.GetDatabase().HashExistsAsync(TenantKeys.For(_tenant)[TenantKeys.Seen], "passer-by"));

        // A forgotten user seen again is registered again, as a newcomer.
        Assert.True((await Admit("passer-by")).Created);
        Assert.NotNull(await Connection.GetDatabase().SortedSetScoreAsync(TenantKeys.For(_tenant)[TenantKeys.Users], "passer-by"));
    }

    [Fact]
    public async Task A_never_active_user_leaves_the_retention_index_while_a_session_lives_and_an_activation_keeps_them_for_good()
    {
        Options.UserRetention = TimeSpan.FromSeconds(1);
        await Plan(LicenseModel.ConcurrentSessions, 10);
        var db = Connection.GetDatabase();
        var unused = TenantKeys.For(_tenant)[TenantKeys.Unused];

        var newcomer = await Admit("newcomer");
        var newcomerAgain = await Admit("newcomer", device: "tablet");
        var turncoat = await Admit("turncoat");
        Assert.Null(await db.SortedSetScoreAsync(unused, "newcomer"));
        Assert.Null(await db.SortedSetScoreAsync(unused, "turncoat"));
        var listed = (await new LicenseQueries(Connection, _options).ListSessionsAsync(_tenant, null, null, 100)).Sessions;
        Assert.Equal(3, listed.Count);
        var newcomers = (await new LicenseQueries(Connection, _options).ListSessionsAsync(_tenant, "newcomer", null, 100)).Sessions;
        Assert.Equal(new[] { newcomer.SessionId, newcomerAgain.SessionId }.Order(StringComparer.Ordinal),
            newcomers.Select(x => x.SessionId).Order(StringComparer.Ordinal));

        // Activated and deactivated while its session lives: a user who was active once is kept.
        Assert.Equal(ActivationStatus.Updated, (await Store.SetUserActiveAsync(_tenant, "turncoat", true, "admin")).Status);
        Assert.Equal(ActivationStatus.Updated, (await Store.SetUserActiveAsync(_tenant, "turncoat", false, "admin")).Status);

        await Store.EndSessionAsync(_tenant, newcomer.SessionId, EndReason.Logout, "newcomer");
        Assert.Null(await db.SortedSetScoreAsync(unused, "newcomer"));   // a session still lives
        await Store.EndSessionAsync(_tenant, newcomerAgain.SessionId, EndReason.Logout, "newcomer");
        await Store.EndSessionAsync(_tenant, turncoat.SessionId, EndReason.Logout, "turncoat");
        Assert.NotNull(await db.SortedSetScoreAsync(unused, "newcomer"));
        Assert.Null(await db.SortedSetScoreAsync(unused, "turncoat"));

        await Task.Delay(1300);
        var swept = await Store.SweepAsync(_tenant);

        Assert.Equal(1, swept.ForgottenUsers);
        var users = (await new LicenseQueries(Connection, _options).ListUsersAsync(_tenant, null, null, 100)).Users.Select(u => u.UserId);
        Assert.Equal(new[] { "turncoat" }, users);
    }

    [Fact]
    public async Task A_session_used_from_a_second_origin_is_reported_shared_once_and_never_refused()
    {
        await Plan(LicenseModel.ConcurrentSessions, 5);
        var first = await Store.AdmitAsync(Id("alice"), origin: 11);
        Assert.False(first.Shared);
        Assert.False((await Store.AdmitAsync(Id("alice"), origin: 11)).Shared);
        var second = await Store.AdmitAsync(Id("alice"), origin: 22);
        Assert.Equal(AdmissionOutcome.Admitted, second.Outcome);
        Assert.True(second.Shared);
        Assert.False((await Store.AdmitAsync(Id("alice"), origin: 33)).Shared);
        Assert.False(await Store.ReportSharedAsync(_tenant, first.SessionId));

        // A replica that saw two origins of a cached session reports it; once.
        var bob = await Store.AdmitAsync(Id("bob"), origin: 11);
        Assert.True(await Store.ReportSharedAsync(_tenant, bob.SessionId));
        Assert.False(await Store.ReportSharedAsync(_tenant, bob.SessionId));
        Assert.False(await Store.ReportSharedAsync(_tenant, "no-such-session-id-xx"));

        var shared = (await new LicenseQueries(Connection, _options).ListAuditAsync(_tenant, null, null, 100)).Entries
            .Where(e => e.Action == "session-shared").Select(e => e.SessionId).Order();
        Assert.Equal(new[] { first.SessionId, bob.SessionId }.Order(), shared);

        // Sessions listed as usual, whatever their record holds besides.
        var listed = await new LicenseQueries(Connection, _options).GetSessionsAsync(_tenant, [first.SessionId, bob.SessionId]);
        Assert.Equal(2, listed.Count);
        Assert.All(listed, s => Assert.Equal("d1", s.DeviceId));
    }

    [Fact]
    public async Task A_plan_released_from_configuration_keeps_its_values_and_takes_api_changes()
    {
        await Store.SetPlanAsync(_tenant, new TenantPlan(LicenseModel.RegisteredUsers, 4, []), true, "configuration");
        Assert.Contains(_tenant, await Store.ListConfiguredTenantsAsync());
        Assert.True(await Store.ReleaseConfiguredPlanAsync(_tenant, "configuration"));
        Assert.False(await Store.ReleaseConfiguredPlanAsync(_tenant, "configuration"));
        var released = (await Store.GetTenantAsync(_tenant))!;
        Assert.False(released.ManagedByConfig);
        Assert.Equal(4, released.SeatLimit);
        Assert.DoesNotContain(_tenant, await Store.ListConfiguredTenantsAsync());
        Assert.Equal(PlanChangeStatus.Updated, (await Store.SetPlanAsync(_tenant, new TenantPlan(LicenseModel.RegisteredUsers, 9, []), false, "op")).Status);
    }

    [Fact]
    public async Task Idle_sessions_expire_and_are_purged_by_admission_and_by_the_sweep()
    {
        Options.IdleTimeout = TimeSpan.FromSeconds(1);
        await Plan(LicenseModel.ConcurrentSessions, 1);
        var first = await Admit("u1");
        Assert.Equal(AdmissionOutcome.SeatsExhausted, (await Admit("u2")).Outcome);
        await Task.Delay(1300);
        var second = await Admit("u2");
        Assert.Equal(AdmissionOutcome.Admitted, second.Outcome);
        Assert.Equal(1, second.Expired.Idle);
        Assert.Equal([EndReason.Idle], _listener.Reasons(first.SessionId));

        await Task.Delay(1300);
        var swept = await Store.SweepAsync(_tenant);
        Assert.Equal([second.SessionId], swept.EndedSessionIds);
        Assert.Equal(0, await ActiveSessions());
    }

    [Fact]
    public async Task Touch_slides_the_expiry_and_reports_sessions_that_are_gone()
    {
        // Touches every 0.5 s keep a 3 s idle timeout alive for 4 s; the untouched session dies.
        // Wide margins: a busy machine may stall a touch by a second without failing the test.
        Options.IdleTimeout = TimeSpan.FromSeconds(3);
        await Plan(LicenseModel.ConcurrentSessions, 5);
        var kept = await Admit("u1");
        var dropped = await Admit("u2");
        for (var i = 0; i < 8; i++)
        {
            await Task.Delay(500);
            var touch = await Store.TouchAsync(_tenant, [kept.SessionId]);
            Assert.Empty(touch.MissingSessionIds);
        }
        var final = await Store.TouchAsync(_tenant, [kept.SessionId, dropped.SessionId]);
        Assert.Equal([dropped.SessionId], final.MissingSessionIds);
        Assert.Equal(1, await ActiveSessions());
    }

    [Fact]
    public async Task Service_sessions_end_after_their_lifetime_even_when_used()
    {
        // The reuse must land well inside the lifetime even when CI stalls this test for a second or two,
        // and the sweep must come after it: the wait is measured from the admission, not from the reuse.
        Options.ServiceSessionLifetime = TimeSpan.FromSeconds(3);
        await Plan(LicenseModel.RegisteredUsers, 5, "batch-client");
        var sinceAdmission = System.Diagnostics.Stopwatch.StartNew();
        var service = await Admit("batch-client", "svc", ClientKind.Service);
        Assert.Equal(AdmissionOutcome.Admitted, service.Outcome);
        await Task.Delay(300);
        Assert.False((await Admit("batch-client", "svc", ClientKind.Service)).Created);
        var untilPastLifetime = TimeSpan.FromMilliseconds(3300) - sinceAdmission.Elapsed;
        if (untilPastLifetime > TimeSpan.Zero) await Task.Delay(untilPastLifetime);
        var swept = await Store.SweepAsync(_tenant);
        Assert.Equal(1, swept.Expired.Lifetime);
        Assert.Equal([EndReason.Lifetime], _listener.Reasons(service.SessionId));
        var reopened = await Admit("batch-client", "svc", ClientKind.Service);
        Assert.True(reopened.Created);
    }

    [Fact]
    public async Task A_service_session_past_its_deadline_ends_on_readmission_even_when_the_purge_has_not_reached_it()
    {
        // The purge ends at most 64 expired sessions per call, oldest deadline first: 70 older ones keep
        // it from reaching this one.
        Options.ServiceSessionLifetime = TimeSpan.FromSeconds(1);
        await Plan(LicenseModel.ConcurrentSessions, 100);
        for (var i = 0; i < 70; i++) Assert.True((await Admit($"batch-{i}", "svc", ClientKind.Service)).Created);
        var target = await Admit("nightly", "svc", ClientKind.Service);
        await Task.Delay(1300);

        var again = await Admit("nightly", "svc", ClientKind.Service);
        Assert.True(again.Created, "a service session past its deadline was refreshed instead of ended");
        Assert.Equal([EndReason.Lifetime], _listener.Reasons(target.SessionId));
    }

    [Fact]
    public async Task A_touch_never_revives_an_expired_session_the_purge_has_not_reached()
    {
        Options.IdleTimeout = TimeSpan.FromSeconds(1);
        await Plan(LicenseModel.ConcurrentSessions, 100);
        for (var i = 0; i < 70; i++) Assert.True((await Admit($"u-{i}")).Created);
        var target = await Admit("late");
        await Task.Delay(1600);

        var touch = await Store.TouchAsync(_tenant, [target.SessionId]);
        Assert.Equal([target.SessionId], touch.MissingSessionIds);
        Assert.Equal([EndReason.Idle], _listener.Reasons(target.SessionId));
    }

    [Fact]
    public async Task Release_ends_only_the_owners_session()
    {
        await Plan(LicenseModel.ConcurrentSessions, 5);
        var alice = await Admit("alice");
        Assert.False(await Store.EndSessionAsync(_tenant, alice.SessionId, EndReason.Logout, "mallory", owner: "mallory"));
        Assert.True(await Store.EndSessionAsync(_tenant, alice.SessionId, EndReason.Logout, "alice", owner: "alice"));
        Assert.False(await Store.EndSessionAsync(_tenant, alice.SessionId, EndReason.Logout, "alice"));
        Assert.Equal(0, await ActiveSessions());
        Assert.True((await Admit("alice")).Created);
    }

    [Fact]
    public async Task Swap_moves_the_seat_in_one_step_and_bulk_changes_are_all_or_nothing()
    {
        await Plan(LicenseModel.RegisteredUsers, 2, "a", "b");
        var aSession = await Admit("a");
        var swap = await Store.SwapUsersAsync(_tenant, "a", "c", "admin");
        Assert.Equal(ActivationStatus.Updated, swap.Status);
        Assert.False(swap.DeactivatedUserActive);
        Assert.True(swap.ActivatedUserActive);
        Assert.Equal([EndReason.Deactivated], _listener.Reasons(aSession.SessionId));

        var tooMany = await Store.SetUsersActiveAsync(_tenant, [("d", true), ("e", true), ("b", false)], "admin");
        Assert.Equal(ActivationStatus.SeatLimitReached, tooMany.Status);
        var snapshot = (await Store.GetTenantAsync(_tenant))!;
        Assert.Equal(2, snapshot.ActiveUsers);
        Assert.True(await Connection.GetDatabase().SetContainsAsync(TenantKeys.For(_tenant)[TenantKeys.Active], "b"));

        var fits = await Store.SetUsersActiveAsync(_tenant, [("d", true), ("b", false)], "admin");
        Assert.Equal(ActivationStatus.Updated, fits.Status);
        Assert.Equal([true, false], fits.Created);
        Assert.Equal(2, fits.ActiveUsers);
    }

    [Fact]
    public async Task Hostile_ids_stay_inside_the_tenants_fixed_keys()
    {
        await Plan(LicenseModel.ConcurrentSessions, 5);
        string[] users = ["a b", "{x}", "*", "k:v", "?", "lic:{other}:sessions", "x\"y'z", new string('u', 128)];
        foreach (var u in users)
        {
            Assert.Equal(AdmissionOutcome.Admitted, (await Admit(u, "{dev} *:?")).Outcome);
            await Store.EndSessionAsync(_tenant, Id(u, "{dev} *:?").ComputeSessionId(), EndReason.Logout, u);
        }
        var keys = new List<string>();
        foreach (var s in Connection.GetServers())
        {
            await foreach (var k in s.KeysAsync(pattern: "*" + _tenant + "*")) keys.Add(k!);
        }
        Assert.NotEmpty(keys);
        Assert.All(keys, k => Assert.Contains(k, TenantKeys.For(_tenant).Select(x => (string)x!)));
    }

    [Fact]
    public async Task Two_hundred_parallel_admissions_of_distinct_users_admit_exactly_the_cap()
    {
        await Plan(LicenseModel.ConcurrentSessions, 20);
        for (var round = 0; round < 5; round++)
        {
            var results = await Task.WhenAll(Enumerable.Range(0, 200).Select(i => Admit($"r{round}-u{i}", $"d{i}")));
            Assert.Equal(20, results.Count(r => r.IsAdmitted));
            Assert.Equal(20, await ActiveSessions());
            foreach (var r in results.Where(r => r.IsAdmitted)) await Store.EndSessionAsync(_tenant, r.SessionId, EndReason.Logout, "test");
            Assert.Equal(0, await ActiveSessions());
        }
    }

    [Fact]
    public async Task One_user_opening_many_devices_in_parallel_gets_exactly_the_cap()
    {
        var users = Enumerable.Range(0, 20).Select(i => $"user{i}").ToArray();
        await Plan(LicenseModel.RegisteredUsers, 20, users);
        for (var round = 0; round < 3; round++)
        {
            var results = await Task.WhenAll(Enumerable.Range(0, 200).Select(i => Admit("user0", $"r{round}-dev{i}")));
            Assert.Equal(20, results.Count(r => r.IsAdmitted));
            Assert.Equal(20, await ActiveSessions());
            foreach (var r in results.Where(r => r.IsAdmitted)) await Store.EndSessionAsync(_tenant, r.SessionId, EndReason.Logout, "test");
        }
    }
}
