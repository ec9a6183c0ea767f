using System.Diagnostics.Metrics;
using System.Net;
using System.Text;
using Gateway.Licensing.Identity;
using Gateway.Licensing.Rules;
using Gateway.Licensing.Store;
using Gateway.Licensing.Telemetry;
using Gateway.Licensing.Tests.Infrastructure;
using Gateway.Management;
using Gateway.Tests.Infrastructure;
using Gateway.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using static Gateway.Tests.Support.GatewayRequests;

namespace Gateway.Tests;

/// <summary>
/// Who is admitted, through the real gateway on a real Redis: service tokens as real identity
/// providers issue them, a browser's first burst, one client inventing device ids, the user retention.
/// </summary>
public sealed class SeatRulesTests(SeatRulesTests.Fixture fixture) : IClassFixture<SeatRulesTests.Fixture>
{
    public sealed class Fixture : GatewayFixture
    {
        protected override void Configure(GatewayFactory gateway) => gateway
            .With("Licensing:SweepInterval", "00:00:00.2")
            .With("Licensing:UserRetention", "00:00:02")
            .WithTenant("svc", LicenseModel.ConcurrentSessions, 10)
            .WithTenant("burst", LicenseModel.ConcurrentSessions, 100)
            .WithTenant("greedy", LicenseModel.ConcurrentSessions, 10)
            .With("Licensing:Tenants:greedy:MaxSessionsPerUser", "2")
            .WithTenant("retain", LicenseModel.RegisteredUsers, 5, activeUsers: ["alice"]);
    }

    private HttpClient Client => fixture.Client;

    private LicenseQueries Queries => fixture.Gateway.Services.GetRequiredService<LicenseQueries>();

    /// <summary>An access token shaped as RFC 9068 prescribes for the client-credentials grant.</summary>
    private static string ClientCredentialsToken(string tenant, string clientId, string clientIdClaim = "client_id") =>
        TestTokens.Create(new Dictionary<string, object>
        {
            ["tid"] = tenant,
            ["sub"] = clientId,
            [clientIdClaim] = clientId,
            ["scope"] = "api",
            ["jti"] = Guid.NewGuid().ToString("N"),
        });

    [Theory]
    [InlineData("client_id")]
    [InlineData("azp")]
    public async Task A_client_credentials_token_whose_sub_is_its_client_id_is_a_service_session(string clientIdClaim)
    {
        var client = "erp-sync-" + clientIdClaim;
        var echo = await Echo.ReadAsync(await Client.SendAsync(Get("/api/x", ClientCredentialsToken("svc", client, clientIdClaim), device: "host-1")));

        var expected = new SessionIdentity("svc", client, ClientKind.Service, "host-1").ComputeSessionId();
        Assert.Equal(expected, echo.Header("X-Licensing-Session"));
        var session = Assert.Single((await Queries.ListSessionsAsync("svc", client, null, 10)).Sessions);
        Assert.Equal(ClientKind.Service, session.ClientKind);
        Assert.True(session.ExpiresAt <= session.StartedAt.AddHours(1));
    }

    [Fact]
    public async Task A_user_token_issued_to_a_client_stays_a_user_session()
    {
        var token = TestTokens.User("svc", "ursula", ("client_id", "web-app"), ("azp", "web-app"));
        var echo = await Echo.ReadAsync(await Client.SendAsync(Get("/api/x", token, device: "pc")));
        Assert.Equal(new SessionIdentity("svc", "ursula", ClientKind.Desktop, "pc").ComputeSessionId(), echo.Header("X-Licensing-Session"));
    }

    [Fact]
    public async Task Eight_parallel_cookie_less_first_requests_of_one_browser_open_one_session_and_get_one_cookie()
    {
        var token = TestTokens.User("burst", "bea");
        var responses = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Client.SendAsync(
            Get("/api/x", token, device: null, userAgent: BrowserAgent).WithHeader("X-Test-Remote-Ip", "192.0.2.10"))));

        var sessions = new HashSet<string>();
        var cookies = new HashSet<string>();
        foreach (var response in responses)
        {
            sessions.Add((await Echo.ReadAsync(response)).Header("X-Licensing-Session")!);
            cookies.Add(response.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith("seat-device=", StringComparison.Ordinal)).Split(';')[0]);
        }
        var session = Assert.Single(sessions);
        var cookie = Assert.Single(cookies);
        Assert.Single((await Queries.ListSessionsAsync("burst", "bea", null, 100)).Sessions);

        // The cookie carries that device: with it, the browser keeps the session from anywhere.
        var device = cookie["seat-device=".Length..];
        Assert.Equal(new SessionIdentity("burst", "bea", ClientKind.Web, device).ComputeSessionId(), session);
        var later = await Echo.ReadAsync(await Client.SendAsync(Get("/api/x", token, device: null, userAgent: BrowserAgent)
            .WithHeader("Cookie", cookie).WithHeader("X-Test-Remote-Ip", "198.51.100.7")));
        Assert.Equal(session, later.Header("X-Licensing-Session"));
    }

    [Fact]
    public async Task One_client_inventing_a_device_id_per_request_takes_at_most_its_per_user_limit()
    {
        var greedy = TestTokens.User("greedy", "grace");
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 12; i++)
        {
            var response = await Client.SendAsync(Get("/api/x", greedy, device: $"fresh-{i}"));
            statuses.Add(response.StatusCode);
            if (i < 2)
            {
                await response.AssertForwardedAsync();
                continue;
            }
            var body = await response.AssertProblemAsync(HttpStatusCode.TooManyRequests, "user-sessions-exhausted");
            Assert.Equal(2, body.GetProperty("yourSessions").GetArrayLength());
            Assert.Null(response.Header("Retry-After"));
        }

        // Everyone else still finds the other eight seats.
        for (var u = 0; u < 8; u++) await (await Client.SendAsync(Get("/api/x", TestTokens.User("greedy", $"user-{u}")))).AssertForwardedAsync();
    }

    [Fact]
    public async Task Users_who_were_never_active_are_forgotten_after_the_retention()
    {
        var db = fixture.Redis.Connection.GetDatabase();
        var keys = TenantKeys.For("retain");
        await (await Client.SendAsync(Get("/api/x", TestTokens.User("retain", "alice")))).AssertForwardedAsync();
        var refused = await Client.SendAsync(Get("/api/x", TestTokens.User("retain", "stranger")));
        await refused.AssertProblemAsync(HttpStatusCode.Forbidden, "user-inactive");
        await fixture.Gateway.Store.SetUserActiveAsync("retain", "bob", true, "test");
        await fixture.Gateway.Store.SetUserActiveAsync("retain", "bob", false, "test");
        Assert.NotNull(await db.SortedSetScoreAsync(keys[2], "stranger"));

        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (DateTime.UtcNow < deadline && await db.SortedSetScoreAsync(keys[2], "stranger") is not null) await Task.Delay(200);

        var users = (await Queries.ListUsersAsync("retain", null, null, 100)).Users.Select(u => u.UserId).ToArray();
        Assert.DoesNotContain("stranger", users);
        Assert.False(await db.HashExistsAsync(keys[10], "stranger"));
        // Active and once-active users are kept.
        Assert.Contains("alice", users);
        Assert.Contains("bob", users);
    }
}

/// <summary>Two gateway replicas on one Redis: rules that must hold whichever replica a request reaches.</summary>
public sealed class ReplicaRulesTests(ReplicaRulesTests.Fixture fixture) : IClassFixture<ReplicaRulesTests.Fixture>
{
    public sealed class Fixture : IAsyncLifetime
    {
        public RedisServerFixture Redis { get; } = new();
        public LoopbackBackend Backend { get; } = new();
        public GatewayFactory[] Gateways { get; private set; } = [];
        public HttpClient[] Clients { get; private set; } = [];

        public async Task InitializeAsync()
        {
            await Redis.InitializeAsync();
            await Backend.InitializeAsync();
            Gateways = Enumerable.Range(0, 2).Select(_ =>
                new GatewayFactory(Redis.ConnectionString + ",syncTimeout=5000,asyncTimeout=5000", Backend.BaseAddress)
                    .WithTenant("burst", LicenseModel.ConcurrentSessions, 100)
                    .WithTenant("share", LicenseModel.ConcurrentSessions, 100)).ToArray();
            Clients = [await Gateways[0].StartAsync(), await Gateways[1].StartAsync()];
        }

        public async Task DisposeAsync()
        {
            foreach (var client in Clients) client.Dispose();
            foreach (var gateway in Gateways) await gateway.DisposeAsync();
            await Backend.DisposeAsync();
            await Redis.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_browsers_first_burst_spread_over_two_replicas_opens_one_session()
    {
        var token = TestTokens.User("burst", "bruno");
        var responses = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => fixture.Clients[i % 2].SendAsync(
            Get("/api/x", token, device: null, userAgent: BrowserAgent).WithHeader("X-Test-Remote-Ip", "192.0.2.44"))));

        var sessions = new HashSet<string>();
        foreach (var response in responses) sessions.Add((await Echo.ReadAsync(response)).Header("X-Licensing-Session")!);
        Assert.Single(sessions);
        var queries = fixture.Gateways[0].Services.GetRequiredService<LicenseQueries>();
        Assert.Single((await queries.ListSessionsAsync("burst", "bruno", null, 100)).Sessions);
    }

    [Fact]
    public async Task A_session_used_from_a_second_address_on_another_replica_is_reported_once()
    {
        var collectors = fixture.Gateways.Select(g => new MetricCollector<long>(
            g.Services.GetRequiredService<IMeterFactory>(), LicensingMetrics.MeterName, "licensing.session.shared")).ToArray();
        try
        {
            var token = TestTokens.User("share", "sid");
            HttpRequestMessage From(string address) => Get("/api/x", token, "laptop").WithHeader("X-Test-Remote-Ip", address);

            await (await fixture.Clients[0].SendAsync(From("192.0.2.1"))).AssertForwardedAsync();
            await (await fixture.Clients[1].SendAsync(From("192.0.2.1"))).AssertForwardedAsync();   // same origin: not shared
            await (await fixture.Clients[1].SendAsync(From("198.51.100.2"))).AssertForwardedAsync();
            await (await fixture.Clients[0].SendAsync(From("198.51.100.2"))).AssertForwardedAsync();
            await (await fixture.Clients[0].SendAsync(From("203.0.113.3"))).AssertForwardedAsync();

            await SharingTests.WaitAsync(() => collectors.Sum(c => c.GetMeasurementSnapshot().Count) >= 1);
            await Task.Delay(500);
            Assert.Equal(1, collectors.Sum(c => c.GetMeasurementSnapshot().Sum(m => m.Value)));
            var audit = await fixture.Gateways[0].Services.GetRequiredService<LicenseQueries>().ListAuditAsync("share", null, null, 1000);
            Assert.Single(audit.Entries, e => e.Action == "session-shared" && e.UserId == "sid");
        }
        finally
        {
            foreach (var c in collectors) c.Dispose();
        }
    }
}

/// <summary>A tenant taken out of <c>Licensing:Tenants</c> is managed through the API from the next start on.</summary>
public sealed class ConfigurationRemovalTests
{
    private static readonly string Operator = TestTokens.User("ops", "olga", ("role", ManagementCaller.OperatorRole));

    [Fact]
    public async Task A_tenant_removed_from_configuration_takes_plan_changes_through_the_api_again()
    {
        await using var redis = new RedisServerFixture();
        await redis.InitializeAsync();
        await using var backend = new LoopbackBackend();
        await backend.InitializeAsync();
        var connection = redis.ConnectionString + ",syncTimeout=5000,asyncTimeout=5000";

        await using (var configured = new GatewayFactory(connection, backend.BaseAddress).WithTenant("was-cfg", LicenseModel.ConcurrentSessions, 3))
        {
            using var client = await configured.StartAsync();
            using var refused = await Put(client, """{"model":"ConcurrentSessions","seatLimit":7}""");
            await refused.AssertProblemAsync(HttpStatusCode.Conflict, "plan-managed-by-config");
        }

        await using var later = new GatewayFactory(connection, backend.BaseAddress);
        using var laterClient = await later.StartAsync();
        var kept = await later.Store.GetTenantAsync("was-cfg");
        Assert.Equal(3, kept!.SeatLimit);
        using var changed = await Put(laterClient, """{"model":"ConcurrentSessions","seatLimit":7}""");
        Assert.Equal(HttpStatusCode.OK, changed.StatusCode);
        Assert.Equal(7, (await later.Store.GetTenantAsync("was-cfg"))!.SeatLimit);
    }

    private static Task<HttpResponseMessage> Put(HttpClient client, string body)
    {
        var request = new HttpRequestMessage(HttpMethod.Put, "/_licensing/v1/tenants/was-cfg")
        {
            Content = new StringContent(body, Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", Operator);
        return client.SendAsync(request);
    }
}
