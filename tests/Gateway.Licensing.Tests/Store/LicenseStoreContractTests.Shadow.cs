using System.Text.Json;
using Gateway.Licensing.Options;
using Gateway.Licensing.Results;
using Gateway.Licensing.Rules;
using Gateway.Licensing.Sessions;
using Gateway.Licensing.Store;

namespace Gateway.Licensing.Tests.Store;

/// <summary>
/// Shadow mode (docs/rollout.md): nothing refused or preempted for seats, what enforcement would have
/// done noted on the session and audited once per session; enforcing again re-establishes the limits.
/// </summary>
public abstract partial class LicenseStoreContractTests
{
    private Task<PlanChangeResult> ShadowPlan(LicenseModel model, int seatLimit, EnforcementMode? enforcement = EnforcementMode.Shadow, int? perUser = null) =>
        Store.SetPlanAsync(_tenant, new TenantPlan(model, seatLimit, []) { Enforcement = enforcement, MaxSessionsPerUser = perUser }, false, "op");

    private async Task<string[]> ActivityActions(string action)
    {
        var entries = (await new LicenseQueries(Connection, _options).ListAuditAsync(_tenant, null, null, 1000)).Entries;
        return entries.Where(e => e.Action == action).Select(e => e.SessionId + " " + e.Reason).ToArray();
    }

    [Fact]
    public async Task Shadow_mode_admits_what_enforcement_would_refuse_notes_it_on_every_admission_and_audits_it_once()
    {
        await ShadowPlan(LicenseModel.ConcurrentSessions, 1);
        var alice = await Admit("alice");
        Assert.Equal(AdmissionOutcome.Admitted, alice.Outcome);
        Assert.Null(alice.ShadowOf);

        var bob = await Admit("bob");
        Assert.Equal(AdmissionOutcome.Admitted, bob.Outcome);
        Assert.True(bob.Created);
        Assert.Equal(AdmissionOutcome.SeatsExhausted, bob.ShadowOf);
        Assert.Equal(2, bob.ActiveSessions);                        // live counts show the real demand

        var again = await Admit("bob");
        Assert.False(again.Created);
        Assert.Equal(AdmissionOutcome.SeatsExhausted, again.ShadowOf);
        Assert.Null((await Admit("alice")).ShadowOf);
        Assert.Equal([bob.SessionId + " seats-exhausted"], await ActivityActions("shadow-refusal"));
        Assert.Empty(_listener.Ended);
    }

    [Fact]
    public async Task Shadow_mode_admits_inactive_users_and_users_at_their_limit()
    {
        await ShadowPlan(LicenseModel.RegisteredUsers, 5, perUser: 1);
        await Store.SetUserActiveAsync(_tenant, "alice", true, "op");

        Assert.Equal(AdmissionOutcome.UserInactive, (await Admit("nobody")).ShadowOf);
        Assert.Null((await Admit("alice", "d1")).ShadowOf);
        var second = await Admit("alice", "d2");
        Assert.True(second.IsAdmitted);
        Assert.Equal(AdmissionOutcome.UserSessionsExhausted, second.ShadowOf);
        Assert.Equal(3, await ActiveSessions());
        Assert.Equal(2, (await ActivityActions("shadow-refusal")).Length);
    }

    [Fact]
    public async Task Shadow_mode_preempts_nobody_and_notes_the_would_be_preemption()
    {
        await ShadowPlan(LicenseModel.RegisteredUsers, 2);
        await Store.SetUserActiveAsync(_tenant, "alice", true, "op");
        await Store.SetUserActiveAsync(_tenant, "bob", true, "op");
        await ShadowPlan(LicenseModel.RegisteredUsers, 2, EnforcementMode.Enforce);
        Assert.True((await Admit("alice", "d1")).IsAdmitted);
        await Task.Delay(5);
        Assert.True((await Admit("alice", "d2")).IsAdmitted);           // borrowed: the tenant is at its cap of 2
        await ShadowPlan(LicenseModel.RegisteredUsers, 2);

        var bob = await Admit("bob");

        Assert.Equal(AdmissionOutcome.Admitted, bob.Outcome);
        Assert.Equal(AdmissionOutcome.Preempted, bob.ShadowOf);
        Assert.Empty(bob.PreemptedSessionIds);
        Assert.Empty(_listener.Ended);
        Assert.Equal(3, await ActiveSessions());
        Assert.Equal([bob.SessionId + " preempted"], await ActivityActions("shadow-preemption"));
    }

    [Fact]
    public async Task The_plans_enforcement_wins_over_the_tenants_configuration_which_wins_over_the_default()
    {
        Options.Enforcement = EnforcementMode.Shadow;
        await ShadowPlan(LicenseModel.ConcurrentSessions, 1, enforcement: null);
        Assert.True((await Admit("a")).IsAdmitted);
        Assert.Equal(AdmissionOutcome.SeatsExhausted, (await Admit("b")).ShadowOf);          // the default: shadow

        Options.Tenants[_tenant] = new TenantPlanOptions { Enforcement = EnforcementMode.Enforce };
        Assert.Equal(AdmissionOutcome.SeatsExhausted, (await Admit("c")).Outcome);            // the tenant's entry: enforce

        await ShadowPlan(LicenseModel.ConcurrentSessions, 1, EnforcementMode.Shadow);
        Assert.Equal(AdmissionOutcome.SeatsExhausted, (await Admit("c")).ShadowOf);          // the plan: shadow
        Assert.Equal(EnforcementMode.Shadow, (await Store.GetTenantAsync(_tenant))!.Enforcement);
    }

    [Fact]
    public async Task Switching_to_shadow_ends_nothing_and_switching_back_trims_by_the_plan_change_rules()
    {
        await ShadowPlan(LicenseModel.ConcurrentSessions, 3, EnforcementMode.Enforce);
        var first = await Admit("u1");
        await Task.Delay(5);
        await Admit("u2");
        await Task.Delay(5);
        await Admit("u3");

        var toShadow = await ShadowPlan(LicenseModel.ConcurrentSessions, 1);
        Assert.Empty(_listener.Ended);
        Assert.Equal(3, await ActiveSessions());
        Assert.Equal(AdmissionOutcome.SeatsExhausted, (await Admit("u4")).ShadowOf);

        var change = await Store.SetPlanAsync(_tenant, new TenantPlan(LicenseModel.ConcurrentSessions, 1, []) { Enforcement = EnforcementMode.Enforce }, false, "op");

        Assert.Equal(3, change.EndedSessionIds.Count);
        Assert.Contains(first.SessionId, change.EndedSessionIds);                          // least recently used first
        Assert.Equal(1, await ActiveSessions());
        Assert.False(await Connection.GetDatabase().KeyExistsAsync(TenantKeys.For(_tenant)[TenantKeys.Shadow]));
        Assert.Equal(AdmissionOutcome.SeatsExhausted, (await Admit("u5")).Outcome);
    }

    [Fact]
    public async Task A_tenant_enforced_again_by_configuration_is_put_back_within_its_limits_at_its_next_admission()
    {
        Options.Enforcement = EnforcementMode.Shadow;
        await ShadowPlan(LicenseModel.RegisteredUsers, 2, enforcement: null);
        await Store.SetUserActiveAsync(_tenant, "alice", true, "op");
        var alice = await Admit("alice");
        await Task.Delay(5);
        var stranger = await Admit("stranger");                                            // not active: would be refused
        Assert.Equal(AdmissionOutcome.UserInactive, stranger.ShadowOf);

        Options.Enforcement = EnforcementMode.Enforce;
        var again = await Admit("stranger");

        Assert.Equal(AdmissionOutcome.UserInactive, again.Outcome);
        Assert.Equal([EndReason.Revoked], _listener.Reasons(stranger.SessionId));
        Assert.Empty(_listener.Reasons(alice.SessionId));
        Assert.Equal(1, await ActiveSessions());
    }
}
