using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Gateway.Licensing.Identity;
using Gateway.Licensing.Rules;
using Gateway.Licensing.Store;
using Gateway.Management;
using StackExchange.Redis;

namespace Gateway.Tests.Management;

/// <summary>Users, sessions, audit and usage lists: paging that stays correct while things change.</summary>
[Collection("management")]
public sealed class ListingTests(ManagementFixture fixture)
{
    private ManagementHost Host => fixture.Host;

    private static string Operator => ManagementHost.Token("ops", "olga", ManagementCaller.OperatorRole);

    private async Task<List<JsonElement>> WalkAsync(string path, string member, string token, int limit, Func<Task>? betweenPages = null)
    {
        var items = new List<JsonElement>();
        string? cursor = null;
        for (var pages = 0; pages < 10_000; pages++)
        {
            var separator = path.Contains('?') ? '&' : '?';
            var url = $"{path}{separator}limit={limit}" + (cursor is null ? "" : $"&cursor={Uri.EscapeDataString(cursor)}");
            var json = await Host.JsonAsync(HttpMethod.Get, url, token);
            var page = json.GetProperty(member).EnumerateArray().ToArray();
            Assert.True(page.Length <= limit);
            items.AddRange(page);
            cursor = json.GetProperty("nextCursor").GetString();
            if (cursor is null) return items;
            if (betweenPages is not null) await betweenPages();
        }
        throw new InvalidOperationException("The walk did not end.");
    }

    [Fact]
    public async Task Paging_users_under_churn_returns_each_user_once_in_order()
    {
        var tenant = await fixture.CreateTenantAsync(seatLimit: 200);
        var original = Enumerable.Range(0, 1000).Select(i => $"user-{i:0000}").ToArray();
        var bulk = JsonSerializer.Serialize(new { users = original.Select((u, i) => new { userId = u, active = i % 10 == 0 }) });
        await Host.JsonAsync(HttpMethod.Patch, $"tenants/{tenant}/users", Operator, bulk);

        using var stop = new CancellationTokenSource();
        var added = 0;
        var churn = Task.Run(async () =>
        {
            var random = new Random(7);
            while (!stop.IsCancellationRequested)
            {
                // New users anywhere in the order, activity changes and logins.
                await Host.Store.SetUserActiveAsync(tenant, $"user-{random.Next(1000):0000}-new{added++}", false, "churn");
                var someone = original[random.Next(100) * 10];
                await Host.Store.SetUserActiveAsync(tenant, someone, random.Next(2) == 0, "churn");
                await Host.Store.AdmitAsync(new SessionIdentity(tenant, original[random.Next(100) * 10], ClientKind.Desktop, "d"));
            }
        });

        var listed = await WalkAsync($"tenants/{tenant}/users", "users", Operator, 37);
        await stop.CancelAsync();
        await churn;

        var ids = listed.Select(u => u.GetProperty("userId").GetString()!).ToArray();
        Assert.True(added > 10, $"only {added} users added during the walk");
        Assert.Equal(ids.Length, ids.Distinct(StringComparer.Ordinal).Count());
        Assert.Equal(ids.Order(StringComparer.Ordinal), ids);
        Assert.Superset(original.ToHashSet(), ids.ToHashSet());
        var first = listed[0];
        Assert.Equal(["userId", "active", "sessions", "lastSeenAt"], first.EnumerateObject().Select(p => p.Name).ToArray());
    }

    [Fact]
    public async Task Filtered_paging_returns_exactly_the_matching_users()
    {
        var tenant = await fixture.CreateTenantAsync(seatLimit: 100);
        var users = Enumerable.Range(0, 300).Select(i => $"u{i:000}").ToArray();
        var bulk = JsonSerializer.Serialize(new { users = users.Select((u, i) => new { userId = u, active = i % 7 == 3 }) });
        await Host.JsonAsync(HttpMethod.Patch, $"tenants/{tenant}/users", Operator, bulk);
        await fixture.AdmitAsync(tenant, "u003", "a");
        await fixture.AdmitAsync(tenant, "u003", "b");

        var active = await WalkAsync($"tenants/{tenant}/users?active=true", "users", Operator, 6);
        Assert.Equal(users.Where((_, i) => i % 7 == 3), active.Select(u => u.GetProperty("userId").GetString()));
        Assert.All(active, u => Assert.True(u.GetProperty("active").GetBoolean()));
        var u003 = active.Single(u => u.GetProperty("userId").GetString() == "u003");
        Assert.Equal(2, u003.GetProperty("sessions").GetInt32());
        Assert.NotEqual(JsonValueKind.Null, u003.GetProperty("lastSeenAt").ValueKind);
        Assert.Equal(JsonValueKind.Null, active.Single(u => u.GetProperty("userId").GetString() == "u010").GetProperty("lastSeenAt").ValueKind);

        var inactive = await WalkAsync($"tenants/{tenant}/users?active=false", "users", Operator, 50);
        Assert.Equal(users.Where((_, i) => i % 7 != 3), inactive.Select(u => u.GetProperty("userId").GetString()));
    }

    [Fact]
    public async Task A_tenant_with_100000_users_pages_without_scanning_the_tenant()
    {
        var tenant = await fixture.CreateTenantAsync(seatLimit: 10);
        var db = fixture.Redis.Connection.GetDatabase();
        var usersKey = TenantKeys.For(tenant)[2];
        // Registering 100,000 users through the API would take minutes here; the users zset is what
        // the read side walks, so fill it directly (score 0, as admission does).
        for (var batch = 0; batch < 100; batch++)
        {
            var entries = Enumerable.Range(batch * 1000, 1000).Select(i => new SortedSetEntry($"user-{i:000000}", 0)).ToArray();
            await db.SortedSetAddAsync(usersKey, entries);
        }
        await Host.Store.SetUsersActiveAsync(tenant, [("user-000007", true), ("user-050000", true), ("user-099999", true)], "test");

        // A page deep in the order costs what the first page costs: ZRANGEBYLEX from the cursor.
        var cursor = System.Buffers.Text.Base64Url.EncodeToString("user-090000"u8);
        var watch = Stopwatch.StartNew();
        var deep = await Host.JsonAsync(HttpMethod.Get, $"tenants/{tenant}/users?limit=1000&cursor={cursor}", Operator);
        watch.Stop();
        var ids = deep.GetProperty("users").EnumerateArray().Select(u => u.GetProperty("userId").GetString()).ToArray();
        Assert.Equal(Enumerable.Range(90_001, 1000).Select(i => $"user-{i:000000}"), ids);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"deep page took {watch.Elapsed}");

        // A sparse filter examines a bounded number of users per page: short pages, then the end.
        var pages = 0;
        var active = new List<string>();
        string? next = null;
        do
        {
            var json = await Host.JsonAsync(HttpMethod.Get, $"tenants/{tenant}/users?active=true&limit=10" + (next is null ? "" : $"&cursor={next}"), Operator);
            active.AddRange(json.GetProperty("users").EnumerateArray().Select(u => u.GetProperty("userId").GetString()!));
            next = json.GetProperty("nextCursor").GetString();
            pages++;
        } while (next is not null);
        Assert.Equal(new[] { "user-000007", "user-050000", "user-099999" }, active);
        Assert.InRange(pages, 100_000 / LicenseQueries.FilteredScanBudget, 100_000 / LicenseQueries.FilteredScanBudget + 1);
    }

    [Fact]
    public async Task Paging_sessions_under_churn_returns_each_stable_session_once()
    {
        var tenant = await fixture.CreateTenantAsync(LicenseModel.ConcurrentSessions, seatLimit: 1000);
        var stable = new List<string>();
        var churning = new List<string>();
        for (var i = 0; i < 300; i++)
        {
            var id = await fixture.AdmitAsync(tenant, $"s{i}", "d");
            (i < 200 ? stable : churning).Add(id);
        }

        using var stop = new CancellationTokenSource();
        var started = 0;
        var churn = Task.Run(async () =>
        {
            var random = new Random(3);
            while (!stop.IsCancellationRequested)
            {
                if (churning.Count > 0)
                {
                    var victim = churning[random.Next(churning.Count)];
                    churning.Remove(victim);
                    await Host.Store.EndSessionAsync(tenant, victim, "logout", "churn");
                }
                churning.Add(await fixture.AdmitAsync(tenant, $"new{started++}", "d"));
            }
        });

        var listed = await WalkAsync($"tenants/{tenant}/sessions", "sessions", ManagementHost.Token(tenant, "frank", ManagementCaller.AdminRole), 17);
        await stop.CancelAsync();
        await churn;

        var ids = listed.Select(s => s.GetProperty("sessionId").GetString()!).ToArray();
        Assert.True(started > 5, $"only {started} sessions started during the walk");
        Assert.Equal(ids.Length, ids.Distinct(StringComparer.Ordinal).Count());
        Assert.Equal(ids.Order(StringComparer.Ordinal), ids);
        Assert.Subset(ids.ToHashSet(), stable.ToHashSet());
    }

    [Fact]
    public async Task Sessions_can_be_filtered_by_user()
    {
        var tenant = await fixture.CreateTenantAsync(LicenseModel.ConcurrentSessions, seatLimit: 10);
        var mine = new[] { await fixture.AdmitAsync(tenant, "alice", "a"), await fixture.AdmitAsync(tenant, "alice", "b") };
        await fixture.AdmitAsync(tenant, "bob", "a");
        var listed = await WalkAsync($"tenants/{tenant}/sessions?userId=alice", "sessions", Operator, 1);
        Assert.Equal(mine.Order(StringComparer.Ordinal), listed.Select(s => s.GetProperty("sessionId").GetString()));
        Assert.All(listed, s => Assert.Equal("alice", s.GetProperty("userId").GetString()));
    }

    [Fact]
    public async Task Audit_pages_newest_first_without_gaps_or_repeats_while_entries_are_appended()
    {
        var tenant = await fixture.CreateTenantAsync(seatLimit: 50);
        // Twenty entries with one store time (one script), then more, one by one.
        await Host.JsonAsync(HttpMethod.Patch, $"tenants/{tenant}/users", Operator,
            JsonSerializer.Serialize(new { users = Enumerable.Range(0, 20).Select(i => new { userId = $"b{i}", active = true }) }));
        for (var i = 0; i < 10; i++) await fixture.AdmitAsync(tenant, $"b{i}", "d");
        var snapshot = (await Host.Queries.ListAuditAsync(tenant, null, null, 1000)).Entries;
        Assert.Equal(1 + 20 + 10, snapshot.Count);
        Assert.Equal(snapshot.OrderByDescending(e => e.AtMs).Select(e => e.AtMs), snapshot.Select(e => e.AtMs));

        var appended = 0;
        var walked = await WalkAsync($"tenants/{tenant}/audit", "entries", Operator, 7, async () =>
        {
            await Host.Store.SetUserActiveAsync(tenant, $"late{appended++}", false, "test");
        });
        // Entries appended during the walk are newer than its cursor: the walk is exactly the snapshot.
        Assert.True(appended >= 4);
        Assert.Equal(
            snapshot.Select(e => (e.Action, e.At, e.UserId)),
            walked.Select(e => (e.GetProperty("action").GetString()!, e.GetProperty("at").GetDateTimeOffset(), e.TryGetProperty("userId", out var u) ? u.GetString() : null)));

        var first = walked[^1];
        Assert.Equal("plan-changed", first.GetProperty("action").GetString());
        Assert.Equal("RegisteredUsers", first.GetProperty("model").GetString());
        Assert.Equal(50, first.GetProperty("seatLimit").GetInt32());
        Assert.Equal("test", first.GetProperty("actor").GetString());
        var started = walked.First(e => e.GetProperty("action").GetString() == "session-started");
        Assert.Equal("desktop", started.GetProperty("clientKind").GetString());
        Assert.Equal("d", started.GetProperty("deviceId").GetString());
        Assert.Equal("gateway", started.GetProperty("actor").GetString());
        Assert.Equal(22, started.GetProperty("sessionId").GetString()!.Length);
    }

    [Fact]
    public async Task Audit_since_returns_entries_at_or_after_the_time()
    {
        var tenant = await fixture.CreateTenantAsync(seatLimit: 50);
        await Host.Store.SetUserActiveAsync(tenant, "early", true, "test");
        var entries = (await Host.Queries.ListAuditAsync(tenant, null, null, 100)).Entries;
        var cut = entries[0].At.AddMilliseconds(1);
        await Task.Delay(5);
        await Host.Store.SetUserActiveAsync(tenant, "late", true, "test");
        await fixture.AdmitAsync(tenant, "late");
        var since = Uri.EscapeDataString(cut.ToString("O"));
        var json = await Host.JsonAsync(HttpMethod.Get, $"tenants/{tenant}/audit?since={since}", Operator);
        var actions = json.GetProperty("entries").EnumerateArray().Select(e => (e.GetProperty("action").GetString(), e.GetProperty("userId").GetString())).ToArray();
        Assert.Equal(new (string?, string?)[] { ("session-started", "late"), ("user-activated", "late") }, actions);
        Assert.Equal(JsonValueKind.Null, json.GetProperty("nextCursor").ValueKind);

        var limited = await Host.JsonAsync(HttpMethod.Get, $"tenants/{tenant}/audit?limit=1", Operator);
        Assert.Single(limited.GetProperty("entries").EnumerateArray());
        Assert.NotEqual(JsonValueKind.Null, limited.GetProperty("nextCursor").ValueKind);
    }

    [Fact]
    public async Task Usage_reports_per_utc_day_peaks_within_the_range()
    {
        var tenant = await fixture.CreateTenantAsync(seatLimit: 5, activeUsers: ["a", "b", "c"]);
        await fixture.AdmitAsync(tenant, "a");
        await fixture.AdmitAsync(tenant, "b");
        var db = fixture.Redis.Connection.GetDatabase();
        var usageKey = TenantKeys.For(tenant)[9];
        await db.HashSetAsync(usageKey, LicenseQueries.EpochDay(new DateOnly(2025, 1, 1)), "7:9");

        var today = await Host.JsonAsync(HttpMethod.Get, $"tenants/{tenant}/usage", Operator);
        var day = Assert.Single(today.GetProperty("days").EnumerateArray());
        Assert.Equal(DateOnly.FromDateTime(DateTime.UtcNow).ToString("yyyy-MM-dd"), day.GetProperty("date").GetString());
        Assert.Equal(2, day.GetProperty("peakSessions").GetInt32());
        Assert.Equal(3, day.GetProperty("peakActiveUsers").GetInt32());
        Assert.Equal(tenant, today.GetProperty("tenant").GetString());

        var past = await Host.JsonAsync(HttpMethod.Get, $"tenants/{tenant}/usage?from=2024-12-31&to=2025-01-02", Operator);
        var only = Assert.Single(past.GetProperty("days").EnumerateArray());
        Assert.Equal("2025-01-01", only.GetProperty("date").GetString());
        Assert.Equal(7, only.GetProperty("peakSessions").GetInt32());
        Assert.Equal(9, only.GetProperty("peakActiveUsers").GetInt32());
        Assert.Equal("2024-12-31", past.GetProperty("from").GetString());
        var none = await Host.JsonAsync(HttpMethod.Get, $"tenants/{tenant}/usage?from=2025-01-02&to=2025-01-02", Operator);
        Assert.Empty(none.GetProperty("days").EnumerateArray());
    }
}
