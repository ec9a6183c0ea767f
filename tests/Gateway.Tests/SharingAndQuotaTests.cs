using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Gateway.Licensing.Rules;
using Gateway.Licensing.Store;
using Gateway.Licensing.Telemetry;
using Gateway.Management;
using Gateway.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using static Gateway.Tests.Support.GatewayRequests;

namespace Gateway.Tests;

/// <summary>The sharing signal on one replica, and the per-user limit of a plan set through the API.</summary>
public sealed class SharingTests(SharingTests.Fixture fixture) : IClassFixture<SharingTests.Fixture>
{
    private static readonly string Operator = TestTokens.User("ops", "olga", ("role", ManagementCaller.OperatorRole));

    public sealed class Fixture : GatewayFixture
    {
        protected override void Configure(GatewayFactory gateway) => gateway
            .With("Licensing:MaxSessionsPerUser", "3")
            .WithTenant("share", LicenseModel.ConcurrentSessions, 10);
    }

    private HttpClient Client => fixture.Client;

    private static HttpRequestMessage From(string address, string token, string device = "laptop") =>
        Get("/api/x", token, device).WithHeader("X-Test-Remote-Ip", address);

    [Fact]
    public async Task A_cached_session_used_from_a_second_address_is_reported_once_and_still_forwarded()
    {
        using var shared = new MetricCollector<long>(fixture.Gateway.Services.GetRequiredService<IMeterFactory>(), LicensingMetrics.MeterName, "licensing.session.shared");
        var token = TestTokens.User("share", "sam");
        await (await Client.SendAsync(From("192.0.2.1", token))).AssertForwardedAsync();
        await (await Client.SendAsync(From("192.0.2.1", token))).AssertForwardedAsync();
        Assert.Empty(shared.GetMeasurementSnapshot());

        // Same session, served from this replica's cache: forwarded, and reported.
        await (await Client.SendAsync(From("198.51.100.9", token))).AssertForwardedAsync();
        await (await Client.SendAsync(From("203.0.113.5", token))).AssertForwardedAsync();
        await (await Client.SendAsync(Get("/api/x", token, "laptop", userAgent: "Other/1.0").WithHeader("X-Test-Remote-Ip", "192.0.2.1"))).AssertForwardedAsync();

        await WaitAsync(() => shared.GetMeasurementSnapshot().Count >= 1);
        await Task.Delay(300);
        Assert.Equal(1, shared.GetMeasurementSnapshot().Sum(m => m.Value));
        var audit = await AuditAsync("share");
        Assert.Single(audit, e => e.GetProperty("action").GetString() == "session-shared" && e.GetProperty("userId").GetString() == "sam");
    }

    [Fact]
    public async Task A_session_used_from_one_address_and_user_agent_is_never_reported()
    {
        using var shared = new MetricCollector<long>(fixture.Gateway.Services.GetRequiredService<IMeterFactory>(), LicensingMetrics.MeterName, "licensing.session.shared");
        var token = TestTokens.User("share", "steady");
        for (var i = 0; i < 5; i++) await (await Client.SendAsync(From("192.0.2.77", token))).AssertForwardedAsync();
        await Task.Delay(300);
        Assert.Empty(shared.GetMeasurementSnapshot());
        Assert.DoesNotContain(await AuditAsync("share"), e => e.GetProperty("action").GetString() == "session-shared" && e.GetProperty("userId").GetString() == "steady");
    }

    [Fact]
    public async Task The_plans_per_user_limit_is_set_and_shown_through_the_api_and_wins_over_the_global_one()
    {
        var tenant = "plan-" + Guid.NewGuid().ToString("N")[..8];
        using (var created = await SendAsync(HttpMethod.Put, $"tenants/{tenant}", """{"model":"ConcurrentSessions","seatLimit":10,"maxSessionsPerUser":1}"""))
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal(1, (await JsonAsync($"tenants/{tenant}")).GetProperty("maxSessionsPerUser").GetInt32());

        var token = TestTokens.User(tenant, "uma");
        await (await Client.SendAsync(Get("/api/x", token, "one"))).AssertForwardedAsync();
        var refused = await Client.SendAsync(Get("/api/x", token, "two"));
        var body = await refused.AssertProblemAsync(HttpStatusCode.TooManyRequests, "user-sessions-exhausted");
        Assert.Single(body.GetProperty("yourSessions").EnumerateArray());
        Assert.Null(refused.Header("Retry-After"));

        // Without the field the tenant follows Licensing:MaxSessionsPerUser (3 here).
        using (var updated = await SendAsync(HttpMethod.Put, $"tenants/{tenant}", """{"model":"ConcurrentSessions","seatLimit":10}"""))
            Assert.Equal(HttpStatusCode.OK, updated.StatusCode);
        Assert.Equal(3, (await JsonAsync($"tenants/{tenant}")).GetProperty("maxSessionsPerUser").GetInt32());
        await (await Client.SendAsync(Get("/api/x", token, "two"))).AssertForwardedAsync();

        foreach (var bad in new[] { "-1", "1000001", "\"2\"", "1.5", "null" })
        {
            using var r = await SendAsync(HttpMethod.Put, $"tenants/{tenant}", $$"""{"model":"ConcurrentSessions","seatLimit":10,"maxSessionsPerUser":{{bad}}}""");
            if (bad == "null")
            {
                // null is "not set", like leaving the member out.
                Assert.Equal(HttpStatusCode.OK, r.StatusCode);
                continue;
            }
            await r.AssertProblemAsync(HttpStatusCode.BadRequest, "invalid-request");
        }

        var changes = await AuditAsync(tenant);
        Assert.Contains(changes, e => e.GetProperty("action").GetString() == "plan-changed" && e.TryGetProperty("maxSessionsPerUser", out var m) && m.GetInt32() == 1);
    }

    private async Task<List<JsonElement>> AuditAsync(string tenant) =>
        (await JsonAsync($"tenants/{tenant}/audit?limit=1000")).GetProperty("entries").EnumerateArray().ToList();

    private async Task<JsonElement> JsonAsync(string path)
    {
        using var response = await SendAsync(HttpMethod.Get, path, null);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, text);
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    private Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string? body)
    {
        var request = new HttpRequestMessage(method, "/_licensing/v1/" + path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Operator);
        if (body is not null) request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        return Client.SendAsync(request);
    }

    internal static async Task WaitAsync(Func<bool> condition)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), "condition not met within 10 s");
            await Task.Delay(50);
        }
    }
}

/// <summary>
/// <c>Licensing:MaxUsersPerTenant</c> through the real gateway: a tenant admin (or its traffic)
/// cannot grow the store without bound.
/// </summary>
public sealed class UserQuotaTests(UserQuotaTests.Fixture fixture) : IClassFixture<UserQuotaTests.Fixture>
{
    private const string Tenant = "quota";
    private const int Quota = 20;

    public sealed class Fixture : GatewayFixture
    {
        protected override void Configure(GatewayFactory gateway) => gateway
            .With("Licensing:MaxUsersPerTenant", Quota.ToString())
            .With("Licensing:AuditCapacity", "50")
            .WithTenant(Tenant, LicenseModel.RegisteredUsers, 1000, activeUsers: ["alice"])
            .WithTenant("open", LicenseModel.ConcurrentSessions, 1000);
    }

    private static readonly string Admin = TestTokens.User(Tenant, "frank", ("role", ManagementCaller.AdminRole));

    [Fact]
    public async Task A_tenant_admin_cannot_grow_the_store_without_bound()
    {
        var client = fixture.Client;
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 40; i++)
        {
            using var r = await Send(client, HttpMethod.Put, $"users/u{i:000}", $$"""{"active":{{(i % 2 == 0 ? "true" : "false")}}}""");
            statuses.Add(r.StatusCode);
            if (r.StatusCode == HttpStatusCode.Conflict)
            {
                var problem = await r.AssertProblemAsync(HttpStatusCode.Conflict, "user-limit-reached");
                Assert.Equal(Quota, problem.GetProperty("maxUsers").GetInt32());
            }
        }
        Assert.Equal(Quota - 1, statuses.Count(s => s == HttpStatusCode.Created));   // alice is the first
        Assert.Equal(40 - (Quota - 1), statuses.Count(s => s == HttpStatusCode.Conflict));

        var bulk = JsonSerializer.Serialize(new { users = Enumerable.Range(0, 500).Select(i => new { userId = $"bulk{i}", active = false }) });
        using (var r = await Send(client, HttpMethod.Patch, "users", bulk))
            await r.AssertProblemAsync(HttpStatusCode.Conflict, "user-limit-reached");
        using (var r = await Send(client, HttpMethod.Post, "users/swap", """{"deactivate":"alice","activate":"brand-new"}"""))
            await r.AssertProblemAsync(HttpStatusCode.Conflict, "user-limit-reached");

        // Traffic of unknown users: refused as unregistered users are, and not registered.
        for (var i = 0; i < 30; i++)
        {
            var response = await client.SendAsync(Get("/api/x", TestTokens.User(Tenant, $"walk-in-{i}")));
            await response.AssertProblemAsync(HttpStatusCode.Forbidden, "user-inactive");
        }

        var db = fixture.Redis.Connection.GetDatabase();
        var keys = TenantKeys.For(Tenant);
        Assert.Equal(Quota, await db.SortedSetLengthAsync(keys[2]));
        Assert.True(await db.HashLengthAsync(keys[10]) <= Quota);
        Assert.True(await db.SortedSetLengthAsync(keys[12]) <= Quota);
        Assert.True(await db.ListLengthAsync(keys[8]) <= 50);
        Assert.True(await db.ListLengthAsync(keys[11]) <= 50);
        // Existing users are still managed as usual.
        using (var r = await Send(client, HttpMethod.Put, "users/u001", """{"active":true}"""))
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
    }

    [Fact]
    public async Task Under_concurrent_sessions_an_unregistered_user_still_connects_and_leaves_no_record()
    {
        var client = fixture.Client;
        for (var i = 0; i < Quota + 10; i++)
        {
            await (await client.SendAsync(Get("/api/x", TestTokens.User("open", $"guest-{i}")))).AssertForwardedAsync();
        }
        var db = fixture.Redis.Connection.GetDatabase();
        Assert.Equal(Quota, await db.SortedSetLengthAsync(TenantKeys.For("open")[2]));
        Assert.Equal(Quota + 10, (await fixture.Gateway.Store.GetTenantAsync("open"))!.ActiveSessions);
    }

    private static Task<HttpResponseMessage> Send(HttpClient client, HttpMethod method, string path, string body)
    {
        var request = new HttpRequestMessage(method, $"/_licensing/v1/tenants/{Tenant}/{path}")
        {
            Content = new StringContent(body, Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Admin);
        return client.SendAsync(request);
    }
}
