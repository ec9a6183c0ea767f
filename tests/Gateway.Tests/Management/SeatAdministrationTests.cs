using Gateway.Licensing.Results;
using Gateway.Problems;
using System.Net;
using System.Text.Json;
using Gateway.Licensing.Identity;
using Gateway.Licensing.Rules;
using Gateway.Licensing.Sessions;
using Gateway.Licensing.Store;
using Gateway.Management;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Tests.Management;

/// <summary>Changes of plans, activations, swaps and sessions through the API, against a real Redis.</summary>
[Collection("management")]
public sealed class SeatAdministrationTests(ManagementFixture fixture)
{
    private ManagementHost Host => fixture.Host;

    private static string Operator => ManagementHost.Token("ops", "olga", ManagementCaller.OperatorRole);

    private static string AdminOf(string tenant) => ManagementHost.Token(tenant, "frank", ManagementCaller.AdminRole);

    [Fact]
    public async Task Put_tenant_creates_with_201_then_updates_with_200_and_get_has_the_spec_shape()
    {
        var tenant = ManagementFixture.NewTenant();
        using (var created = await Host.SendAsync(HttpMethod.Put, $"tenants/{tenant}", Operator, """{"model":"ConcurrentSessions","seatLimit":3,"reservedUsers":["zed","amy"]}"""))
        {
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            Assert.Equal($"/_licensing/v1/tenants/{tenant}", created.Headers.Location?.OriginalString);
        }
        using (var updated = await Host.SendAsync(HttpMethod.Put, $"tenants/{tenant}", Operator, """{"model":"RegisteredUsers","seatLimit":4}"""))
            Assert.Equal(HttpStatusCode.OK, updated.StatusCode);

        await Host.Store.SetUserActiveAsync(tenant, "alice", true, "test");
        await fixture.AdmitAsync(tenant, "alice");
        var json = await Host.JsonAsync(HttpMethod.Get, $"tenants/{tenant}", AdminOf(tenant));
        Assert.Equal(
            ["tenant", "model", "seatLimit", "activeUsers", "activeSessions", "reservedUsers", "idleTimeoutSeconds", "maxSessionsPerUser", "enforcement"],
            json.EnumerateObject().Select(p => p.Name).ToArray());
        Assert.Equal(tenant, json.GetProperty("tenant").GetString());
        Assert.Equal("RegisteredUsers", json.GetProperty("model").GetString());
        Assert.Equal(4, json.GetProperty("seatLimit").GetInt32());
        Assert.Equal(1, json.GetProperty("activeUsers").GetInt32());
        Assert.Equal(1, json.GetProperty("activeSessions").GetInt32());
        Assert.Equal(JsonValueKind.Array, json.GetProperty("reservedUsers").ValueKind);
        Assert.Equal(1200, json.GetProperty("idleTimeoutSeconds").GetInt32());
        Assert.Equal("enforce", json.GetProperty("enforcement").GetString());
    }

    [Fact]
    public async Task Put_tenant_refuses_a_limit_below_active_users_and_a_configured_plan_with_409()
    {
        var tenant = await fixture.CreateTenantAsync(seatLimit: 5, activeUsers: ["a", "b", "c"]);
        var before = await fixture.FingerprintAsync(tenant);
        using (var below = await Host.SendAsync(HttpMethod.Put, $"tenants/{tenant}", Operator, """{"model":"RegisteredUsers","seatLimit":2}"""))
        {
            var problem = await ProblemAssert.IsProblemAsync(below, 409, ProblemCodes.SeatLimitBelowActiveUsers);
            Assert.Equal(3, problem.GetProperty("activeUsers").GetInt32());
        }
        Assert.Equal(before, await fixture.FingerprintAsync(tenant));

        var configured = ManagementFixture.NewTenant("cfg");
        await Host.Store.SetPlanAsync(configured, new TenantPlan(LicenseModel.RegisteredUsers, 5, []), fromConfiguration: true, "configuration");
        before = await fixture.FingerprintAsync(configured);
        using (var managed = await Host.SendAsync(HttpMethod.Put, $"tenants/{configured}", Operator, """{"model":"RegisteredUsers","seatLimit":50}"""))
            await ProblemAssert.IsProblemAsync(managed, 409, ProblemCodes.PlanManagedByConfig);
        Assert.Equal(before, await fixture.FingerprintAsync(configured));
        // Its users are managed through the API as usual.
        using (var user = await Host.SendAsync(HttpMethod.Put, $"tenants/{configured}/users/alice", AdminOf(configured), """{"active":true}"""))
            Assert.Equal(HttpStatusCode.Created, user.StatusCode);
    }

    [Fact]
    public async Task Unknown_tenant_is_404_on_every_tenant_route()
    {
        var tenant = ManagementFixture.NewTenant("none");
        var sid = new SessionIdentity(tenant, "u", ClientKind.Web, "d").ComputeSessionId();
        var requests = new (HttpMethod, string, string?)[]
        {
            (HttpMethod.Get, $"tenants/{tenant}", null),
            (HttpMethod.Get, $"tenants/{tenant}/users", null),
            (HttpMethod.Put, $"tenants/{tenant}/users/alice", """{"active":true}"""),
            (HttpMethod.Patch, $"tenants/{tenant}/users", """{"users":[{"userId":"alice","active":true}]}"""),
            (HttpMethod.Post, $"tenants/{tenant}/users/swap", """{"deactivate":"a","activate":"b"}"""),
            (HttpMethod.Get, $"tenants/{tenant}/sessions", null),
            (HttpMethod.Delete, $"tenants/{tenant}/sessions/{sid}", null),
            (HttpMethod.Get, $"tenants/{tenant}/audit", null),
            (HttpMethod.Get, $"tenants/{tenant}/usage", null),
        };
        foreach (var (method, path, body) in requests)
        {
            using var response = await Host.SendAsync(method, path, Operator, body);
            await ProblemAssert.IsProblemAsync(response, 404, ProblemCodes.TenantNotFound);
        }
        Assert.DoesNotContain(tenant, await Host.Store.ListTenantsAsync());
        Assert.Equal(0L, await fixture.Redis.Connection.GetDatabase().KeyExistsAsync(TenantKeys.For(tenant)));
    }

    [Fact]
    public async Task Put_user_activates_with_201_for_a_new_record_200_after_and_409_at_the_seat_limit()
    {
        var tenant = await fixture.CreateTenantAsync(seatLimit: 1);
        using (var r = await Host.SendAsync(HttpMethod.Put, $"tenants/{tenant}/users/alice", AdminOf(tenant), """{"active":true}"""))
        {
            Assert.Equal(HttpStatusCode.Created, r.StatusCode);
            var json = JsonDocument.Parse(await r.Content.ReadAsStringAsync()).RootElement;
            Assert.Equal("alice", json.GetProperty("userId").GetString());
            Assert.True(json.GetProperty("active").GetBoolean());
        }
        using (var r = await Host.SendAsync(HttpMethod.Put, $"tenants/{tenant}/users/alice", AdminOf(tenant), """{"active":true}"""))
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        var before = await fixture.FingerprintAsync(tenant);
        using (var r = await Host.SendAsync(HttpMethod.Put, $"tenants/{tenant}/users/bob", AdminOf(tenant), """{"active":true}"""))
        {
            var problem = await ProblemAssert.IsProblemAsync(r, 409, ProblemCodes.SeatLimitReached);
            Assert.Equal(1, problem.GetProperty("seatLimit").GetInt32());
        }
        Assert.Equal(before, await fixture.FingerprintAsync(tenant));
    }

    [Fact]
    public async Task User_ids_with_reserved_url_characters_round_trip_when_percent_encoded()
    {
        // Over real Kestrel: it leaves %2F undecoded in the path, and the API reads the raw target.
        await using var kestrel = await ManagementHost.StartAsync(fixture.Redis.Connection, kestrel: true);
        var tenant = await fixture.CreateTenantAsync(seatLimit: 3);
        foreach (var user in new[] { "dom\\alice", "a/b", "a%2Fb", "x y?z#1", "100%" })
        {
            using var r = await kestrel.SendAsync(HttpMethod.Put, $"tenants/{tenant}/users/{Uri.EscapeDataString(user)}", AdminOf(tenant), """{"active":false}""");
            Assert.Equal(HttpStatusCode.Created, r.StatusCode);
            Assert.Equal(user, JsonDocument.Parse(await r.Content.ReadAsStringAsync()).RootElement.GetProperty("userId").GetString());
        }
        var page = await Host.Queries.ListUsersAsync(tenant, null, null, 10);
        Assert.Equal(new[] { "100%", "a%2Fb", "a/b", "dom\\alice", "x y?z#1" }, page.Users.Select(u => u.UserId));
        // A user called "swap" is a user like any other for PUT.
        using var swap = await Host.SendAsync(HttpMethod.Put, $"tenants/{tenant}/users/swap", AdminOf(tenant), """{"active":true}""");
        Assert.Equal(HttpStatusCode.Created, swap.StatusCode);
    }

    [Fact]
    public async Task Forty_parallel_activations_at_seat_limit_10_succeed_exactly_10_times()
    {
        var tenant = await fixture.CreateTenantAsync(seatLimit: 10);
        var token = AdminOf(tenant);
        using var start = new ManualResetEventSlim();
        var tasks = Enumerable.Range(0, 40).Select(i => Task.Run(async () =>
        {
            start.Wait();
            using var r = await Host.SendAsync(HttpMethod.Put, $"tenants/{tenant}/users/user-{i:00}", token, """{"active":true}""");
            if (r.StatusCode == HttpStatusCode.Conflict) await ProblemAssert.IsProblemAsync(r, 409, ProblemCodes.SeatLimitReached);
            return r.StatusCode;
        })).ToArray();
        start.Set();
        var statuses = await Task.WhenAll(tasks);

        Assert.Equal(10, statuses.Count(s => s == HttpStatusCode.Created));
        Assert.Equal(30, statuses.Count(s => s == HttpStatusCode.Conflict));
        var snapshot = await Host.Store.GetTenantAsync(tenant);
        Assert.Equal(10, snapshot!.ActiveUsers);
        var active = await Host.Queries.ListUsersAsync(tenant, true, null, 100);
        Assert.Equal(10, active.Users.Count);
    }

    [Fact]
    public async Task Swaps_racing_with_logins_never_exceed_the_cap()
    {
        const int limit = 5;
        var users = Enumerable.Range(0, 10).Select(i => $"u{i}").ToArray();
        var tenant = await fixture.CreateTenantAsync(seatLimit: limit, activeUsers: users[..limit]);
        var token = AdminOf(tenant);
        var keys = TenantKeys.For(tenant);
        var db = fixture.Redis.Connection.GetDatabase();
        using var stop = new CancellationTokenSource();
        var violations = new List<string>();
        var observations = 0;

        var monitor = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                var tx = db.CreateTransaction();
                var sessions = tx.HashLengthAsync(keys[4]);
                var active = tx.SetLengthAsync(keys[3]);
                await tx.ExecuteAsync();
                var (s, a) = (await sessions, await active);
                observations++;
                if (s > a || a > limit) lock (violations) violations.Add($"sessions={s} active={a}");
            }
        });

        var logins = Enumerable.Range(0, 4).Select(w => Task.Run(async () =>
        {
            var random = new Random(w);
            var admitted = 0;
            for (var i = 0; i < 150; i++)
            {
                var identity = new SessionIdentity(tenant, users[random.Next(users.Length)], ClientKind.Desktop, $"d{random.Next(3)}");
                if ((await Host.Store.AdmitAsync(identity)).IsAdmitted) admitted++;
            }
            return admitted;
        })).ToArray();

        var swaps = Enumerable.Range(0, 2).Select(w => Task.Run(async () =>
        {
            var random = new Random(100 + w);
            var ok = 0;
            for (var i = 0; i < 40; i++)
            {
                var page = await Host.Queries.ListUsersAsync(tenant, null, null, 100);
                var active = page.Users.Where(u => u.Active).Select(u => u.UserId).ToArray();
                var inactive = page.Users.Where(u => !u.Active).Select(u => u.UserId).ToArray();
                if (active.Length == 0 || inactive.Length == 0) continue;
                var body = JsonSerializer.Serialize(new { deactivate = active[random.Next(active.Length)], activate = inactive[random.Next(inactive.Length)] });
                using var r = await Host.SendAsync(HttpMethod.Post, $"tenants/{tenant}/users/swap", token, body);
                if (r.StatusCode == HttpStatusCode.OK) ok++;
                else await ProblemAssert.IsProblemAsync(r, 409, ProblemCodes.SeatLimitReached);
            }
            return ok;
        })).ToArray();

        var admittedTotal = (await Task.WhenAll(logins)).Sum();
        var swapped = (await Task.WhenAll(swaps)).Sum();
        await stop.CancelAsync();
        await monitor;

        Assert.Empty(violations);
        Assert.True(observations > 10);
        Assert.True(swapped > 10, $"only {swapped} swaps went through");
        Assert.True(admittedTotal > 0);
        // Two racing swaps may activate the same user, so the second one only deactivates: fewer
        // active users is possible, more than the limit never.
        var final = await Host.Store.GetTenantAsync(tenant);
        Assert.InRange(final!.ActiveUsers, 1, limit);
        var activeUsers = (await Host.Queries.ListUsersAsync(tenant, true, null, 100)).Users.Select(u => u.UserId).ToHashSet();
        var live = (await Host.Queries.ListSessionsAsync(tenant, null, null, 1000)).Sessions;
        Assert.All(live, s => Assert.Contains(s.UserId, activeUsers));
        Assert.True(live.Count <= limit);
    }

    [Fact]
    public async Task Bulk_import_is_all_or_nothing()
    {
        var tenant = await fixture.CreateTenantAsync(seatLimit: 5, activeUsers: ["a0", "a1"]);
        await fixture.AdmitAsync(tenant, "a0");
        var token = AdminOf(tenant);

        // Six active users would exceed five seats: nothing changes, not even the new user records.
        var before = await fixture.FingerprintAsync(tenant);
        var tooMany = JsonSerializer.Serialize(new { users = new[] { "a0", "n1", "n2", "n3", "n4" }.Select(u => new { userId = u, active = true }).Append(new { userId = "a1", active = true }).Append(new { userId = "n5", active = true }) });
        using (var r = await Host.SendAsync(HttpMethod.Patch, $"tenants/{tenant}/users", token, tooMany))
        {
            var problem = await ProblemAssert.IsProblemAsync(r, 409, ProblemCodes.SeatLimitReached);
            Assert.Equal(2, problem.GetProperty("activeUsers").GetInt32());
            Assert.Equal(5, problem.GetProperty("seatLimit").GetInt32());
        }
        Assert.Equal(before, await fixture.FingerprintAsync(tenant));

        // Deactivations in the same list free seats for its activations.
        var exact = """{"users":[{"userId":"a0","active":false},{"userId":"n1","active":true},{"userId":"n2","active":true},{"userId":"n3","active":true},{"userId":"n4","active":true},{"userId":"i1","active":false}]}""";
        var json = await Host.JsonAsync(HttpMethod.Patch, $"tenants/{tenant}/users", token, exact);
        Assert.Equal(5, json.GetProperty("activeUsers").GetInt32());
        Assert.Equal(6, json.GetProperty("users").GetArrayLength());
        var active = (await Host.Queries.ListUsersAsync(tenant, true, null, 100)).Users.Select(u => u.UserId);
        Assert.Equal(new[] { "a1", "n1", "n2", "n3", "n4" }, active);
        var inactive = (await Host.Queries.ListUsersAsync(tenant, false, null, 100)).Users.Select(u => u.UserId);
        Assert.Equal(new[] { "a0", "i1" }, inactive);
        Assert.Empty((await Host.Queries.ListSessionsAsync(tenant, "a0", null, 10)).Sessions);
    }

    [Fact]
    public async Task Deactivation_drains_the_users_sessions_at_once_and_this_replica_forgets_them()
    {
        var tenant = await fixture.CreateTenantAsync(seatLimit: 5, activeUsers: ["alice", "bob", "carol"]);
        var admitter = Host.Services.GetRequiredService<SessionAdmitter>();
        var cache = Host.Services.GetRequiredService<LocalSessionCache>();
        var alice = new SessionIdentity(tenant, "alice", ClientKind.Desktop, "pc");
        var aliceIds = new List<string>();
        foreach (var identity in new[] { alice, alice with { ClientKind = ClientKind.Web, Device = "browser" } })
        {
            var decision = await admitter.AdmitAsync(identity);
            Assert.True(decision.Forward);
            aliceIds.Add(decision.SessionId);
        }
        var bobId = await fixture.AdmitAsync(tenant, "bob");
        Assert.All(aliceIds, id => Assert.True(cache.TryGet(id, out _)));

        var json = await Host.JsonAsync(HttpMethod.Put, $"tenants/{tenant}/users/alice", AdminOf(tenant), """{"active":false}""");
        Assert.False(json.GetProperty("active").GetBoolean());

        Assert.All(aliceIds, id => Assert.False(cache.TryGet(id, out _)));
        var live = (await Host.Queries.ListSessionsAsync(tenant, null, null, 100)).Sessions;
        Assert.Equal(bobId, Assert.Single(live).SessionId);
        var audit = await Host.Queries.ListAuditAsync(tenant, null, null, 100);
        Assert.Equal(2, audit.Entries.Count(e => e.Action == "session-ended" && e.Reason == EndReason.Deactivated && e.UserId == "alice"));
        Assert.Contains(audit.Entries, e => e.Action == "user-deactivated" && e.UserId == "alice" && e.Actor == "frank");

        // An inactive user is refused; once active again the client's next request is a new session.
        Assert.Equal(AdmissionOutcome.UserInactive, (await Host.Store.AdmitAsync(alice)).Outcome);
        await Host.JsonAsync(HttpMethod.Put, $"tenants/{tenant}/users/alice", AdminOf(tenant), """{"active":true}""");
        var again = await Host.Store.AdmitAsync(alice);
        Assert.True(again.IsAdmitted);
        Assert.True(again.Created);
    }

    [Fact]
    public async Task Swap_answers_both_states_and_ends_the_deactivated_users_sessions()
    {
        var tenant = await fixture.CreateTenantAsync(seatLimit: 2, activeUsers: ["alice", "bob"]);
        await fixture.AdmitAsync(tenant, "alice");
        var json = await Host.JsonAsync(HttpMethod.Post, $"tenants/{tenant}/users/swap", AdminOf(tenant), """{"deactivate":"alice","activate":"carol"}""");
        Assert.Equal("alice", json.GetProperty("deactivated").GetProperty("userId").GetString());
        Assert.False(json.GetProperty("deactivated").GetProperty("active").GetBoolean());
        Assert.Equal("carol", json.GetProperty("activated").GetProperty("userId").GetString());
        Assert.True(json.GetProperty("activated").GetProperty("active").GetBoolean());
        Assert.Empty((await Host.Queries.ListSessionsAsync(tenant, null, null, 10)).Sessions);
        Assert.True((await Host.Store.AdmitAsync(new SessionIdentity(tenant, "carol", ClientKind.Web, "b"))).IsAdmitted);

        // No free seat for an inactive user unless someone active is swapped out.
        var before = await fixture.FingerprintAsync(tenant);
        using var r = await Host.SendAsync(HttpMethod.Post, $"tenants/{tenant}/users/swap", AdminOf(tenant), """{"deactivate":"alice","activate":"dave"}""");
        await ProblemAssert.IsProblemAsync(r, 409, ProblemCodes.SeatLimitReached);
        Assert.Equal(before, await fixture.FingerprintAsync(tenant));
    }

    [Fact]
    public async Task Admin_ends_a_session_with_204_it_is_forgotten_locally_and_the_client_comes_back_as_a_new_session()
    {
        var tenant = await fixture.CreateTenantAsync(seatLimit: 2, activeUsers: ["alice"]);
        var admitter = Host.Services.GetRequiredService<SessionAdmitter>();
        var cache = Host.Services.GetRequiredService<LocalSessionCache>();
        var identity = new SessionIdentity(tenant, "alice", ClientKind.Web, "browser-1");
        var id = (await admitter.AdmitAsync(identity)).SessionId;
        Assert.True(cache.TryGet(id, out _));

        using (var r = await Host.SendAsync(HttpMethod.Delete, $"tenants/{tenant}/sessions/{id}", AdminOf(tenant)))
            Assert.Equal(HttpStatusCode.NoContent, r.StatusCode);
        Assert.False(cache.TryGet(id, out _));
        using (var r = await Host.SendAsync(HttpMethod.Delete, $"tenants/{tenant}/sessions/{id}", AdminOf(tenant)))
            await ProblemAssert.IsProblemAsync(r, 404, ProblemCodes.SessionNotFound);

        var again = await admitter.AdmitAsync(identity);
        Assert.True(again.Forward);
        Assert.True(again.StoreResult!.Created);
        var ended = (await Host.Queries.ListAuditAsync(tenant, null, null, 100)).Entries.First(e => e.Action == "session-ended");
        Assert.Equal(EndReason.Revoked, ended.Reason);
        Assert.Equal("frank", ended.Actor);
    }

    [Fact]
    public async Task Sessions_of_another_tenant_cannot_be_ended_through_this_tenant()
    {
        var mine = await fixture.CreateTenantAsync(activeUsers: ["alice"]);
        var theirs = await fixture.CreateTenantAsync(activeUsers: ["mallory"]);
        var theirSession = await fixture.AdmitAsync(theirs, "mallory");
        using var r = await Host.SendAsync(HttpMethod.Delete, $"tenants/{mine}/sessions/{theirSession}", AdminOf(mine));
        await ProblemAssert.IsProblemAsync(r, 404, ProblemCodes.SessionNotFound);
        Assert.Single((await Host.Queries.ListSessionsAsync(theirs, null, null, 10)).Sessions);
    }

    [Fact]
    public async Task Session_list_has_the_spec_shape_with_lower_case_client_kinds_and_borrowed_flags()
    {
        var tenant = await fixture.CreateTenantAsync(seatLimit: 3, activeUsers: ["alice", "bob", "carol"]);
        var first = await fixture.AdmitAsync(tenant, "alice", "pc", ClientKind.Desktop);
        await Task.Delay(5);
        var second = await fixture.AdmitAsync(tenant, "alice", "phone", ClientKind.Mobile);
        var json = await Host.JsonAsync(HttpMethod.Get, $"tenants/{tenant}/sessions", AdminOf(tenant));
        var sessions = json.GetProperty("sessions").EnumerateArray().ToDictionary(s => s.GetProperty("sessionId").GetString()!);
        Assert.Equal(2, sessions.Count);
        Assert.Equal(JsonValueKind.Null, json.GetProperty("nextCursor").ValueKind);
        var s1 = sessions[first];
        Assert.Equal(
            ["sessionId", "userId", "clientKind", "deviceId", "startedAt", "lastSeenAt", "expiresAt", "borrowed"],
            s1.EnumerateObject().Select(p => p.Name).ToArray());
        Assert.Equal("desktop", s1.GetProperty("clientKind").GetString());
        Assert.Equal("mobile", sessions[second].GetProperty("clientKind").GetString());
        Assert.Equal("pc", s1.GetProperty("deviceId").GetString());
        Assert.True(s1.GetProperty("borrowed").GetBoolean());
        Assert.False(sessions[second].GetProperty("borrowed").GetBoolean());
        var lastSeen = s1.GetProperty("lastSeenAt").GetDateTimeOffset();
        // The store keeps a session IdleTimeout (20 min) + TouchInterval (1 min) after its last recorded use.
        Assert.Equal(lastSeen.AddMinutes(21), s1.GetProperty("expiresAt").GetDateTimeOffset());

        // Using the older session makes it the user's own, and the other one borrowed.
        await Task.Delay(5);
        await fixture.AdmitAsync(tenant, "alice", "pc", ClientKind.Desktop);
        var now = (await Host.Queries.ListSessionsAsync(tenant, "alice", null, 10)).Sessions.ToDictionary(s => s.SessionId);
        Assert.False(now[first].Borrowed);
        Assert.True(now[second].Borrowed);

        // Service sessions expire at the earlier of idle expiry and their lifetime.
        var svc = await fixture.AdmitAsync(tenant, "bob", "svc", ClientKind.Service);
        var service = Assert.Single((await Host.Queries.ListSessionsAsync(tenant, "bob", null, 10)).Sessions);
        Assert.Equal(ClientKind.Service, service.ClientKind);
        Assert.Equal(service.LastSeenAt.AddMinutes(21), service.ExpiresAt); // lifetime 1 h is later
        Assert.Equal(svc, service.SessionId);
    }

    [Fact]
    public async Task Me_lists_only_the_callers_sessions_and_ends_only_the_callers_sessions()
    {
        var tenant = await fixture.CreateTenantAsync(seatLimit: 5, activeUsers: ["alice", "bob", "carol"]);
        var alicePc = await fixture.AdmitAsync(tenant, "alice", "pc");
        var aliceWeb = await fixture.AdmitAsync(tenant, "alice", "browser", ClientKind.Web);
        var bobs = await fixture.AdmitAsync(tenant, "bob", "pc");
        var alice = ManagementHost.Token(tenant, "alice");

        var json = await Host.JsonAsync(HttpMethod.Get, "me/sessions", alice);
        Assert.Equal(new[] { alicePc, aliceWeb }.Order(StringComparer.Ordinal), json.GetProperty("sessions").EnumerateArray().Select(s => s.GetProperty("sessionId").GetString()));

        // Another user's session id is simply not found, and stays.
        using (var r = await Host.SendAsync(HttpMethod.Delete, $"me/sessions/{bobs}", alice))
            await ProblemAssert.IsProblemAsync(r, 404, ProblemCodes.SessionNotFound);
        Assert.Single((await Host.Queries.ListSessionsAsync(tenant, "bob", null, 10)).Sessions);
        using (var r = await Host.SendAsync(HttpMethod.Delete, "me/sessions/not-a-session-id", alice))
            await ProblemAssert.IsProblemAsync(r, 404, ProblemCodes.SessionNotFound);

        // 'current' is the session of this request: web client in "browser".
        using (var r = await Host.SendAsync(HttpMethod.Delete, "me/sessions/current", alice, configure: m =>
               {
                   m.Headers.Add("X-Client-Kind", "web");
                   m.Headers.Add("X-Device-Id", "browser");
               }))
            Assert.Equal(HttpStatusCode.NoContent, r.StatusCode);
        var left = (await Host.Queries.ListSessionsAsync(tenant, "alice", null, 10)).Sessions;
        Assert.Equal(alicePc, Assert.Single(left).SessionId);
        var ended = (await Host.Queries.ListAuditAsync(tenant, null, null, 10)).Entries.First(e => e.Action == "session-ended");
        Assert.Equal((EndReason.Logout, "alice", aliceWeb), (ended.Reason, ended.Actor, ended.SessionId));

        // Without a resolvable current session: 404.
        using (var r = await Host.SendAsync(HttpMethod.Delete, "me/sessions/current", alice))
            await ProblemAssert.IsProblemAsync(r, 404, ProblemCodes.SessionNotFound);
    }

    [Fact]
    public async Task Me_needs_a_complete_and_valid_identity()
    {
        using (var r = await Host.SendAsync(HttpMethod.Get, "me/sessions", ManagementHost.Token(null, "alice")))
            await ProblemAssert.IsProblemAsync(r, 403, ProblemCodes.IdentityIncomplete);
        using (var r = await Host.SendAsync(HttpMethod.Get, "me/sessions", ManagementHost.Token("t1", null)))
            await ProblemAssert.IsProblemAsync(r, 403, ProblemCodes.IdentityIncomplete);
        using (var r = await Host.SendAsync(HttpMethod.Get, "me/sessions", ManagementHost.Token("bad tenant!", "alice")))
            await ProblemAssert.IsProblemAsync(r, 400, ProblemCodes.InvalidIdentity);
        using (var r = await Host.SendAsync(HttpMethod.Get, "me/sessions", ManagementHost.Token("t1", new string('x', 129))))
            await ProblemAssert.IsProblemAsync(r, 400, ProblemCodes.InvalidIdentity);
        // A service identity (client_id, no sub) is a user too.
        var tenant = await fixture.CreateTenantAsync(activeUsers: ["svc-app"]);
        var sid = await fixture.AdmitAsync(tenant, "svc-app", "svc", ClientKind.Service);
        var service = ManagementHost.Token(tenant, null, [], new Dictionary<string, object> { ["client_id"] = "svc-app" });
        var json = await Host.JsonAsync(HttpMethod.Get, "me/sessions", service);
        Assert.Equal(sid, json.GetProperty("sessions")[0].GetProperty("sessionId").GetString());
        Assert.Equal("service", json.GetProperty("sessions")[0].GetProperty("clientKind").GetString());
    }
}
