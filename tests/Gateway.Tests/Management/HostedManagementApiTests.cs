using Gateway.Problems;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Gateway.Licensing.Rules;
using Gateway.Licensing.Store;
using Microsoft.Extensions.DependencyInjection;
using Gateway.Management;
using Gateway.Tests.Support;
using static Gateway.Tests.Support.GatewayRequests;

namespace Gateway.Tests.Management;

/// <summary>
/// The management API inside the real gateway (<c>Program</c>): the host's JwtBearer, pipeline,
/// management fallback and a catch-all proxy route. Nothing under the management path is forwarded.
/// </summary>
public sealed class HostedManagementApiTests(HostedManagementApiTests.Fixture fixture) : IClassFixture<HostedManagementApiTests.Fixture>
{
    public sealed class Fixture : GatewayFixture
    {
        protected override void Configure(GatewayFactory gateway) => gateway
            .WithTenant("configured", LicenseModel.RegisteredUsers, 3, activeUsers: ["alice"])
            .With("ReverseProxy:Routes:all:ClusterId", "backend")
            .With("ReverseProxy:Routes:all:Match:Path", "/{**rest}")
            .With("ReverseProxy:Routes:all:Metadata:Licensing", "Off");
    }

    private static readonly string Operator = TestTokens.User("ops", "olga", ("role", new[] { ManagementCaller.OperatorRole }));

    private static HttpRequestMessage Send(HttpMethod method, string path, string? token, string? body = null)
    {
        var request = new HttpRequestMessage(method, path);
        if (token is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        if (body is not null) request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        return request;
    }

    [Fact]
    public async Task An_admin_administers_its_tenant_through_the_real_host()
    {
        var tenant = "hosted-" + Guid.NewGuid().ToString("N")[..8];
        using (var created = await fixture.Client.SendAsync(Send(HttpMethod.Put, $"/_licensing/v1/tenants/{tenant}", Operator, """{"model":"RegisteredUsers","seatLimit":2}""")))
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);

        var admin = TestTokens.User(tenant, "frank", ("role", ManagementCaller.AdminRole));
        using (var r = await fixture.Client.SendAsync(Send(HttpMethod.Put, $"/_licensing/v1/tenants/{tenant}/users/alice", admin, """{"active":true}""")))
            Assert.Equal(HttpStatusCode.Created, r.StatusCode);

        // alice's proxied request opens a session the admin sees and ends.
        var alice = TestTokens.User(tenant, "alice");
        using (var proxied = await fixture.Client.SendAsync(Get("/api/items", alice, device: "laptop")))
            await proxied.AssertForwardedAsync();
        var sessions = await fixture.Client.SendAsync(Send(HttpMethod.Get, $"/_licensing/v1/tenants/{tenant}/sessions", admin));
        var json = JsonDocument.Parse(await sessions.Content.ReadAsStringAsync()).RootElement;
        var session = Assert.Single(json.GetProperty("sessions").EnumerateArray());
        Assert.Equal("laptop", session.GetProperty("deviceId").GetString());
        Assert.Equal("desktop", session.GetProperty("clientKind").GetString());
        Assert.Equal("no-store", sessions.Headers.CacheControl?.ToString());
        var id = session.GetProperty("sessionId").GetString();

        // The user sees it as their own.
        var mine = await fixture.Client.SendAsync(Send(HttpMethod.Get, "/_licensing/v1/me/sessions", alice));
        Assert.Contains(id!, await mine.Content.ReadAsStringAsync());

        using (var ended = await fixture.Client.SendAsync(Send(HttpMethod.Delete, $"/_licensing/v1/tenants/{tenant}/sessions/{id}", admin)))
            Assert.Equal(HttpStatusCode.NoContent, ended.StatusCode);
        Assert.Equal(0, (await fixture.Gateway.Store.GetTenantAsync(tenant))!.ActiveSessions);

        // Another tenant's admin gets 403; a plan change by an admin too.
        var stranger = TestTokens.User("elsewhere", "erin", ("role", ManagementCaller.AdminRole));
        using (var r = await fixture.Client.SendAsync(Send(HttpMethod.Get, $"/_licensing/v1/tenants/{tenant}", stranger)))
            await r.AssertProblemAsync(HttpStatusCode.Forbidden, ProblemCodes.Forbidden);
        using (var r = await fixture.Client.SendAsync(Send(HttpMethod.Put, $"/_licensing/v1/tenants/{tenant}", admin, """{"model":"RegisteredUsers","seatLimit":9}""")))
            await r.AssertProblemAsync(HttpStatusCode.Forbidden, ProblemCodes.Forbidden);
        Assert.DoesNotContain(fixture.Backend.Received, r => r.Path.StartsWith("/_licensing", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public async Task A_user_ends_the_current_session_and_the_next_request_opens_a_new_one()
    {
        var tenant = "current-" + Guid.NewGuid().ToString("N")[..8];
        await fixture.Gateway.Store.SetPlanAsync(tenant, new TenantPlan(LicenseModel.ConcurrentSessions, 5, []), false, "test");
        var alice = TestTokens.User(tenant, "alice");
        string first;
        using (var proxied = await fixture.Client.SendAsync(Get("/api/items", alice, device: "current-dev")))
            first = (await Echo.ReadAsync(proxied)).Header("X-Licensing-Session")!;
        using (var other = await fixture.Client.SendAsync(Get("/api/items", alice, device: "other-dev")))
            await other.AssertForwardedAsync();

        var delete = Send(HttpMethod.Delete, "/_licensing/v1/me/sessions/current", alice);
        delete.Headers.Add("X-Device-Id", "current-dev");
        delete.Headers.TryAddWithoutValidation("User-Agent", DesktopAgent);
        using (var ended = await fixture.Client.SendAsync(delete))
            Assert.Equal(HttpStatusCode.NoContent, ended.StatusCode);

        var sessions = await fixture.Gateway.Services.GetRequiredService<LicenseQueries>()
            .ListSessionsAsync(tenant, "alice", null, 100);
        Assert.DoesNotContain(sessions.Sessions, x => x.SessionId == first);
        Assert.Contains(sessions.Sessions, x => x.DeviceId == "other-dev");
        var reopened = await fixture.Gateway.Store.AdmitAsync(new(tenant, "alice", Gateway.Licensing.Identity.ClientKind.Desktop, "current-dev"));
        Assert.True(reopened.Created);
    }

    [Fact]
    public async Task A_configured_plan_is_refused_with_409_but_its_users_are_managed()
    {
        using (var r = await fixture.Client.SendAsync(Send(HttpMethod.Put, "/_licensing/v1/tenants/configured", Operator, """{"model":"ConcurrentSessions","seatLimit":30}""")))
            await r.AssertProblemAsync(HttpStatusCode.Conflict, ProblemCodes.PlanManagedByConfig);
        using (var r = await fixture.Client.SendAsync(Send(HttpMethod.Put, "/_licensing/v1/tenants/configured/users/bob", Operator, """{"active":true}""")))
            Assert.Equal(HttpStatusCode.Created, r.StatusCode);
        using var get = await fixture.Client.SendAsync(Send(HttpMethod.Get, "/_licensing/v1/tenants/configured", Operator));
        var tenant = JsonDocument.Parse(await get.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(("RegisteredUsers", 3, 2), (tenant.GetProperty("model").GetString(), tenant.GetProperty("seatLimit").GetInt32(), tenant.GetProperty("activeUsers").GetInt32()));
    }

    [Theory]
    [InlineData("GET", "/_licensing/v1/tenants/configured")]
    [InlineData("PUT", "/_licensing/v1/tenants/configured/users/bob")]
    [InlineData("GET", "/_licensing/v1/me/sessions")]
    public async Task Anonymous_calls_get_the_bearer_challenge_and_are_never_forwarded(string method, string path)
    {
        using var r = await fixture.Client.SendAsync(Send(new HttpMethod(method), path, token: null, method == "PUT" ? """{"active":true}""" : null));
        Assert.Equal(HttpStatusCode.Unauthorized, r.StatusCode);
        Assert.Contains(r.Headers.WwwAuthenticate, h => h.Scheme == "Bearer");
        Assert.DoesNotContain(fixture.Backend.Received, x => x.Path.StartsWith("/_licensing", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public async Task The_openapi_document_is_served_anonymously_and_unknown_v1_paths_are_the_hosts_404()
    {
        using (var doc = await fixture.Client.GetAsync("/_licensing/openapi/v1.json"))
        {
            Assert.Equal(HttpStatusCode.OK, doc.StatusCode);
            var paths = JsonDocument.Parse(await doc.Content.ReadAsStringAsync()).RootElement.GetProperty("paths");
            Assert.True(paths.TryGetProperty("/_licensing/v1/tenants/{tenant}/users/swap", out _));
        }
        // Not Development: no API reference page.
        using (var docs = await fixture.Client.GetAsync("/_licensing/docs"))
            await docs.AssertProblemAsync(HttpStatusCode.NotFound, "not-found");
        using (var unknown = await fixture.Client.SendAsync(Send(HttpMethod.Get, "/_licensing/v1/tenants/configured/nothing", Operator)))
            await unknown.AssertProblemAsync(HttpStatusCode.NotFound, "not-found");
        Assert.DoesNotContain(fixture.Backend.Received, x => x.Path.StartsWith("/_licensing", StringComparison.OrdinalIgnoreCase));
    }
}

/// <summary>With <c>Licensing:ManagementPort</c>, tenant routes, metrics and OpenAPI only on that port; health and /me everywhere.</summary>
public sealed class HostedManagementPortTests(HostedManagementPortTests.Fixture fixture) : IClassFixture<HostedManagementPortTests.Fixture>
{
    public sealed class Fixture : GatewayFixture
    {
        // The test server's connections have local port 0, so every request here is "elsewhere".
        protected override void Configure(GatewayFactory gateway) => gateway
            .WithTenant("acme", LicenseModel.RegisteredUsers, 3, activeUsers: ["alice"])
            .With("Licensing:ManagementPort", "9464");
    }

    [Theory]
    [InlineData("/_licensing/v1/tenants/acme")]
    [InlineData("/_licensing/v1/tenants/acme/users")]
    [InlineData("/_licensing/openapi/v1.json")]
    [InlineData("/_licensing/metrics")]
    public async Task Management_only_routes_do_not_exist_on_other_ports(string path)
    {
        var token = TestTokens.User("ops", "olga", ("role", ManagementCaller.OperatorRole));
        using var withToken = await fixture.Client.SendAsync(Get(path, token));
        await withToken.AssertProblemAsync(HttpStatusCode.NotFound, "not-found");
        using var anonymous = await fixture.Client.SendAsync(Get(path, token: null));
        await anonymous.AssertProblemAsync(HttpStatusCode.NotFound, "not-found");
    }

    [Fact]
    public async Task Health_and_me_answer_on_every_port()
    {
        Assert.Equal(HttpStatusCode.OK, (await fixture.Client.GetAsync("/_licensing/healthz")).StatusCode);
        using var me = await fixture.Client.SendAsync(Get("/_licensing/v1/me/sessions", TestTokens.User("acme", "alice")));
        Assert.Equal(HttpStatusCode.OK, me.StatusCode);
    }
}
