using Gateway.Licensing.Identity;
using Gateway.Licensing.Options;
using Gateway.Licensing.Results;
using Gateway.Licensing.Rules;
using Gateway.Licensing.Store;
using Gateway.Licensing.Tests.Infrastructure;
using Gateway.Licensing.Tests.Support;
using StackExchange.Redis;

namespace Gateway.Licensing.Tests.Store;

/// <summary>
/// The read side of the management API (<see cref="LicenseQueries"/>) against a real store: the
/// read-only scripts must answer the same on redis-server and on the embedded store.
/// </summary>
public abstract class LicenseQueriesContractTests
{
    protected abstract IConnectionMultiplexer Connection { get; }

    private readonly string _tenant = "q-" + Guid.NewGuid().ToString("N")[..12];
    private readonly StaticOptionsMonitor<LicensingOptions> _options = new(new LicensingOptions());

    private LicenseStore Store => field ??= new LicenseStore(Connection, _options, []);

    private LicenseQueries Queries => field ??= new LicenseQueries(Connection, _options);

    private async Task<string> Admit(string user, string device = "d1", ClientKind kind = ClientKind.Desktop)
    {
        var result = await Store.AdmitAsync(new SessionIdentity(_tenant, user, kind, device));
        Assert.True(result.IsAdmitted, result.Outcome.ToString());
        return result.SessionId;
    }

    [Fact]
    public async Task Users_page_in_ordinal_order_with_filters_counts_and_last_seen()
    {
        await Store.SetPlanAsync(_tenant, new TenantPlan(LicenseModel.RegisteredUsers, 10, []), false, "test");
        var users = Enumerable.Range(0, 25).Select(i => $"u{i:00}").ToArray();
        var bulk = await Store.SetUsersActiveAsync(_tenant, users.Select((u, i) => (u, i % 3 == 0)).ToArray(), "test");
        Assert.Equal(ActivationStatus.Updated, bulk.Status);
        await Admit("u00", "a");
        await Admit("u00", "b");

        var all = new List<UserRecord>();
        string? after = null;
        do
        {
            var page = await Queries.ListUsersAsync(_tenant, null, after, 4);
            Assert.True(page.Users.Count <= 4);
            all.AddRange(page.Users);
            after = page.NextAfter;
        } while (after is not null);
        Assert.Equal(users, all.Select(u => u.UserId));
        Assert.Equal(2, all[0].Sessions);
        Assert.NotNull(all[0].LastSeenAt);
        Assert.Null(all[1].LastSeenAt);

        var active = await Queries.ListUsersAsync(_tenant, true, null, 100);
        Assert.Equal(users.Where((_, i) => i % 3 == 0), active.Users.Select(u => u.UserId));
        Assert.Null(active.NextAfter);
        var inactive = await Queries.ListUsersAsync(_tenant, false, "u10", 3);
        Assert.Equal(new[] { "u11", "u13", "u14" }, inactive.Users.Select(u => u.UserId));
        Assert.Equal("u14", inactive.NextAfter);
        var last = await Queries.ListUsersAsync(_tenant, null, "u23", 5);
        Assert.Equal("u24", Assert.Single(last.Users).UserId);
        Assert.Null(last.NextAfter);
        Assert.Empty((await Queries.ListUsersAsync(_tenant, null, "zzz", 5)).Users);
    }

    [Fact]
    public async Task A_users_last_seen_follows_its_sessions_use_and_outlives_them_without_a_record_per_live_user()
    {
        await Store.SetPlanAsync(_tenant, new TenantPlan(LicenseModel.ConcurrentSessions, 10, []), false, "test");
        var db = Connection.GetDatabase();
        var seenKey = TenantKeys.For(_tenant)[TenantKeys.Seen];
        var session = await Admit("alice");
        var admitted = Assert.Single((await Queries.ListUsersAsync(_tenant, null, null, 10)).Users).LastSeenAt;
        Assert.NotNull(admitted);
        Assert.False(await db.HashExistsAsync(seenKey, "alice")); // the session's recency says it

        await Task.Delay(5);
        Assert.Empty((await Store.TouchAsync(_tenant, [session])).MissingSessionIds);
        var touched = Assert.Single((await Queries.ListUsersAsync(_tenant, null, null, 10)).Users).LastSeenAt;
        Assert.True(touched > admitted, $"{touched} after {admitted}");

        Assert.True(await Store.EndSessionAsync(_tenant, session, "logout", "test"));
        var ended = Assert.Single((await Queries.ListUsersAsync(_tenant, null, null, 10)).Users);
        Assert.Equal((0, touched), (ended.Sessions, ended.LastSeenAt));
        Assert.True(await db.HashExistsAsync(seenKey, "alice"));
    }

    [Fact]
    public async Task Sessions_have_times_expiry_and_borrowed_flags_and_page_by_id()
    {
        await Store.SetPlanAsync(_tenant, new TenantPlan(LicenseModel.ConcurrentSessions, 10, []), false, "test");
        var older = await Admit("alice", "pc");
        await Task.Delay(3);
        var newer = await Admit("alice", "phone", ClientKind.Mobile);
        var svc = await Admit("robot", "svc", ClientKind.Service);

        var page = await Queries.ListSessionsAsync(_tenant, null, null, 100);
        Assert.Equal(new[] { older, newer, svc }.Order(StringComparer.Ordinal), page.Sessions.Select(s => s.SessionId));
        Assert.Null(page.NextAfter);
        var byId = page.Sessions.ToDictionary(s => s.SessionId);
        Assert.True(byId[older].Borrowed);
        Assert.False(byId[newer].Borrowed);
        Assert.False(byId[svc].Borrowed);
        Assert.Equal(ClientKind.Mobile, byId[newer].ClientKind);
        Assert.Equal("phone", byId[newer].DeviceId);
        Assert.Equal("alice", byId[newer].UserId);
        Assert.Equal(byId[older].LastSeenAt + _options.CurrentValue.StoreIdleWindow, byId[older].ExpiresAt);
        Assert.True(byId[older].StartedAt <= byId[older].LastSeenAt);

        var first = await Queries.ListSessionsAsync(_tenant, null, null, 2);
        Assert.Equal(2, first.Sessions.Count);
        var rest = await Queries.ListSessionsAsync(_tenant, null, first.NextAfter, 2);
        Assert.Equal(page.Sessions.Skip(2).Select(s => s.SessionId), rest.Sessions.Select(s => s.SessionId));
        Assert.Null(rest.NextAfter);

        var alice = await Queries.ListSessionsAsync(_tenant, "alice", null, 10);
        Assert.Equal(2, alice.Sessions.Count);
        Assert.Empty((await Queries.ListSessionsAsync(_tenant, "nobody", null, 10)).Sessions);
        Assert.Empty(await Queries.GetSessionsAsync(_tenant, ["AAAAAAAAAAAAAAAAAAAAAA"]));
    }

    [Fact]
    public async Task Service_session_expiry_is_capped_by_its_lifetime()
    {
        _options.CurrentValue.ServiceSessionLifetime = TimeSpan.FromMinutes(5);
        await Store.SetPlanAsync(_tenant, new TenantPlan(LicenseModel.ConcurrentSessions, 10, []), false, "test");
        await Admit("robot", "svc", ClientKind.Service);
        var s = Assert.Single((await Queries.ListSessionsAsync(_tenant, null, null, 10)).Sessions);
        Assert.Equal(s.StartedAt + TimeSpan.FromMinutes(5), s.ExpiresAt);
    }

    [Fact]
    public async Task Audit_is_newest_first_pages_through_entries_of_one_instant_and_honours_since()
    {
        await Store.SetPlanAsync(_tenant, new TenantPlan(LicenseModel.RegisteredUsers, 50, ["r1"]), false, "op");
        await Store.SetUsersActiveAsync(_tenant, Enumerable.Range(0, 12).Select(i => ($"b{i:00}", true)).ToArray(), "admin");
        // "since" is inclusive and has millisecond resolution: on a fast run all three writes share
        // one store millisecond, so the session must start in a later one for the filter to tell them apart.
        await Task.Delay(5);
        await Admit("b00");

        var all = (await Queries.ListAuditAsync(_tenant, null, null, 1000)).Entries;
        Assert.Equal(1 + 12 + 1, all.Count);
        Assert.Equal("session-started", all[0].Action);
        Assert.Equal("desktop", all[0].ClientKind);
        Assert.Equal("d1", all[0].DeviceId);
        Assert.Equal(22, all[0].SessionId!.Length);
        var plan = all[^1];
        Assert.Equal(("plan-changed", "op", "RegisteredUsers", 50), (plan.Action, plan.Actor, plan.Model, plan.SeatLimit));
        Assert.Equal(["r1"], plan.ReservedUsers!);
        Assert.False(plan.FromConfiguration);
        Assert.All(all.Skip(1).Take(12), e => Assert.Equal(("user-activated", "bulk", "admin"), (e.Action, e.Reason, e.Actor)));

        var walked = new List<AuditEntry>();
        AuditCursor? cursor = null;
        do
        {
            var page = await Queries.ListAuditAsync(_tenant, null, cursor, 5);
            walked.AddRange(page.Entries);
            cursor = page.Next;
        } while (cursor is not null);
        // Records compare reservedUsers by reference: compare the entries without it.
        Assert.Equal(all.Select(e => e with { ReservedUsers = null }), walked.Select(e => e with { ReservedUsers = null }));

        var since = await Queries.ListAuditAsync(_tenant, all[0].At, null, 100);
        Assert.Contains(since.Entries, e => e.Action == "session-started");
        Assert.DoesNotContain(since.Entries, e => e.Action == "plan-changed");
        Assert.Empty((await Queries.ListAuditAsync(_tenant, all[0].At.AddSeconds(1), null, 100)).Entries);
    }

    [Fact]
    public async Task Session_activity_is_stored_positionally_and_json_entries_of_older_versions_still_read_in_time_order()
    {
        await Store.SetPlanAsync(_tenant, new TenantPlan(LicenseModel.ConcurrentSessions, 10, []), false, "op");
        var log = TenantKeys.For(_tenant)[TenantKeys.SessionLog];
        var db = Connection.GetDatabase();
        // An activity entry as a version that wrote only JSON left it, a minute before the plan.
        var earlier = DateTimeOffset.UtcNow.AddMinutes(-1).ToUnixTimeMilliseconds();
        await db.ListLeftPushAsync(log,
            $$"""{"at":{{earlier}},"us":7,"action":"session-ended","actor":"sweep","session":"old-session","user":"olga","reason":"idle"}""");
        var admitted = await Admit("alice");

        var stored = (string)(await db.ListGetByIndexAsync(log, 0))!;
        Assert.StartsWith("~", stored, StringComparison.Ordinal);
        Assert.DoesNotContain("\"", stored, StringComparison.Ordinal);

        var all = (await Queries.ListAuditAsync(_tenant, null, null, 100)).Entries;
        Assert.Equal(["session-started", "user-registered", "plan-changed", "session-ended"], all.Select(e => e.Action).ToArray());
        var started = all[0];
        Assert.Equal(("gateway", "alice", admitted, "desktop", "d1"), (started.Actor, started.UserId, started.SessionId, started.ClientKind, started.DeviceId));
        Assert.Null(started.Reason);
        Assert.Null(started.Model);
        var old = all[3];
        Assert.Equal((earlier, "sweep", "olga", "old-session", "idle"), (old.AtMs, old.Actor, old.UserId, old.SessionId, old.Reason));
        Assert.Null(old.ClientKind);
    }

    [Fact]
    public async Task Usage_reads_the_ledger_by_utc_day()
    {
        await Store.SetPlanAsync(_tenant, new TenantPlan(LicenseModel.ConcurrentSessions, 10, []), false, "test");
        await Admit("a");
        await Admit("b");
        var today = DateOnly.FromDateTime(DateTime.UtcNow);
        var days = await Queries.GetUsageAsync(_tenant, today.AddDays(-3), today);
        var day = Assert.Single(days);
        Assert.Equal((today, 2, 0), (day.Date, day.PeakSessions, day.PeakActiveUsers));
        Assert.Equal(20454, LicenseQueries.EpochDay(new DateOnly(2026, 1, 1)));
        await Assert.ThrowsAsync<ArgumentException>(() => Queries.GetUsageAsync(_tenant, today, today.AddDays(-1)));
    }
}

/// <summary>The read side on a real redis-server.</summary>
[Collection("redis")]
public sealed class RedisLicenseQueriesTests(RedisServerFixture redis) : LicenseQueriesContractTests
{
    protected override IConnectionMultiplexer Connection => redis.Connection;
}

/// <summary>The read side on the embedded store.</summary>
public sealed class EmbeddedLicenseQueriesTests(EmbeddedStoreFixture embedded) : LicenseQueriesContractTests, IClassFixture<EmbeddedStoreFixture>
{
    protected override IConnectionMultiplexer Connection => embedded.Connection;
}
