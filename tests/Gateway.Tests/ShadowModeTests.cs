using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Gateway.Licensing.Rules;
using Gateway.Licensing.Telemetry;
using Gateway.Management;
using Gateway.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using static Gateway.Tests.Support.GatewayRequests;

namespace Gateway.Tests;

/// <summary>
/// Shadow mode through the real gateway: a shadowed tenant over its limits is forwarded, with
/// <c>X-Licensing-Shadow</c>, counted as <c>shadow_*</c> and audited once per session; enforced tenants
/// are unaffected; the plan's <c>enforcement</c> wins over the tenant's configuration, which wins over
/// <c>Licensing:Enforcement</c>; switching back to enforce ends what is above the limits.
/// </summary>
public sealed class ShadowModeTests(ShadowModeTests.Fixture fixture) : IClassFixture<ShadowModeTests.Fixture>
{
    private const string ShadowHeader = "X-Licensing-Shadow";
    private static readonly string Operator = TestTokens.User("ops", "olga", ("role", ManagementCaller.OperatorRole));

    public sealed class Fixture : GatewayFixture
    {
        protected override void Configure(GatewayFactory gateway) => gateway
            .WithTenant("shadowed", LicenseModel.ConcurrentSessions, 1)
            .With("Licensing:Tenants:shadowed:Enforcement", "Shadow")
            .WithTenant("inactive", LicenseModel.RegisteredUsers, 5, activeUsers: ["alice"])
            .With("Licensing:Tenants:inactive:Enforcement", "shadow")
            .WithTenant("enforced", LicenseModel.ConcurrentSessions, 1)
            // No plan from configuration: the plan comes through the API, the enforcement from here.
            .With("Licensing:Tenants:api-shadow:Enforcement", "Shadow");
    }

    private HttpClient Client => fixture.Client;

    private MetricCollector<long> Admissions() =>
        new(fixture.Gateway.Services.GetRequiredService<IMeterFactory>(), LicensingMetrics.MeterName, "licensing.session.admissions");

    // The tenant label may still be "other" in the first seconds (labels follow the gauges' sampling);
    // the tests of this class run one after the other, each with its own collector.
    private static long Count(MetricCollector<long> admissions, string result) =>
        admissions.GetMeasurementSnapshot().Where(m => (string?)m.Tags["licensing.result"] == result).Sum(m => m.Value);

    [Fact]
    public async Task A_shadow_tenant_over_its_limit_is_forwarded_marked_counted_and_audited_once_per_session()
    {
        using var admissions = Admissions();
        var first = await Echo.ReadAsync(await Client.SendAsync(Get("/api/x", TestTokens.User("shadowed", "sue"))
            .WithHeader(ShadowHeader, "seats-exhausted")));
        Assert.Null(first.Header(ShadowHeader));                           // a caller's own value never reaches the backend

        var over = TestTokens.User("shadowed", "sid");
        for (var i = 0; i < 4; i++)
        {
            var echo = await Echo.ReadAsync(await Client.SendAsync(Get("/api/x", over)));
            Assert.Equal("seats-exhausted", echo.Header(ShadowHeader));   // every request of the session
            Assert.NotNull(echo.Header("X-Licensing-Session"));
        }

        Assert.Equal(1, Count(admissions, "shadow_seats_exhausted"));
        Assert.Equal(0, Count(admissions, "seats_exhausted"));
        var tenant = await JsonAsync("tenants/shadowed");
        Assert.Equal("shadow", tenant.GetProperty("enforcement").GetString());
        Assert.Equal(2, tenant.GetProperty("activeSessions").GetInt32());  // the real demand, above the limit of 1
        var shadowEntries = (await AuditAsync("shadowed")).Where(e => e.GetProperty("action").GetString() == "shadow-refusal").ToArray();
        var entry = Assert.Single(shadowEntries);
        Assert.Equal("sid", entry.GetProperty("userId").GetString());
        Assert.Equal("seats-exhausted", entry.GetProperty("reason").GetString());
    }

    [Fact]
    public async Task An_inactive_user_of_a_shadow_tenant_is_forwarded_marked_user_inactive()
    {
        using var admissions = Admissions();
        var echo = await Echo.ReadAsync(await Client.SendAsync(Get("/api/x", TestTokens.User("inactive", "ivan"))));
        Assert.Equal("user-inactive", echo.Header(ShadowHeader));
        Assert.Null((await Echo.ReadAsync(await Client.SendAsync(Get("/api/x", TestTokens.User("inactive", "alice"))))).Header(ShadowHeader));
        Assert.Equal(1, Count(admissions, "shadow_user_inactive"));
    }

    [Fact]
    public async Task An_enforced_tenant_is_unaffected()
    {
        using var admissions = Admissions();
        var echo = await Echo.ReadAsync(await Client.SendAsync(Get("/api/x", TestTokens.User("enforced", "eve"))));
        Assert.Null(echo.Header(ShadowHeader));
        await (await Client.SendAsync(Get("/api/x", TestTokens.User("enforced", "ed")))).AssertProblemAsync(HttpStatusCode.TooManyRequests, "seats-exhausted");
        Assert.Equal(1, Count(admissions, "seats_exhausted"));
        Assert.Equal("enforce", (await JsonAsync("tenants/enforced")).GetProperty("enforcement").GetString());
    }

    [Fact]
    public async Task The_plans_enforcement_wins_over_the_tenants_configuration_and_switching_to_enforce_ends_what_is_above_the_limit()
    {
        using (var created = await SendAsync(HttpMethod.Put, "tenants/api-shadow", """{"model":"ConcurrentSessions","seatLimit":1}"""))
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal("shadow", (await JsonAsync("tenants/api-shadow")).GetProperty("enforcement").GetString());
        await (await Client.SendAsync(Get("/api/x", TestTokens.User("api-shadow", "kim")))).AssertForwardedAsync();
        Assert.Equal("seats-exhausted", (await Echo.ReadAsync(await Client.SendAsync(Get("/api/x", TestTokens.User("api-shadow", "xena"))))).Header(ShadowHeader));
        Assert.Equal(2, (await JsonAsync("tenants/api-shadow")).GetProperty("activeSessions").GetInt32());

        using (var enforce = await SendAsync(HttpMethod.Put, "tenants/api-shadow", """{"model":"ConcurrentSessions","seatLimit":1,"enforcement":"enforce"}"""))
        {
            var body = JsonDocument.Parse(await enforce.Content.ReadAsStringAsync()).RootElement;
            Assert.Equal(HttpStatusCode.OK, enforce.StatusCode);
            Assert.Equal("enforce", body.GetProperty("enforcement").GetString());
            Assert.Equal(1, body.GetProperty("activeSessions").GetInt32());      // the least recently used one ended
        }
        Assert.Single(await AuditAsync("api-shadow"), e => e.GetProperty("action").GetString() == "session-ended"
            && e.GetProperty("reason").GetString() == "revoked");

        await (await Client.SendAsync(Get("/api/x", TestTokens.User("api-shadow", "newcomer")))).AssertProblemAsync(HttpStatusCode.TooManyRequests, "seats-exhausted");
        var list = (await JsonAsync("tenants?limit=1000")).GetProperty("tenants").EnumerateArray().ToArray();
        Assert.Equal("enforce", list.Single(t => t.GetProperty("tenant").GetString() == "api-shadow").GetProperty("enforcement").GetString());
        Assert.Equal("shadow", list.Single(t => t.GetProperty("tenant").GetString() == "shadowed").GetProperty("enforcement").GetString());
        Assert.Contains(await AuditAsync("api-shadow"), e => e.GetProperty("action").GetString() == "plan-changed"
            && e.TryGetProperty("enforcement", out var mode) && mode.GetString() == "enforce");

        // Without the member the tenant follows its configuration again: shadow.
        using (var follow = await SendAsync(HttpMethod.Put, "tenants/api-shadow", """{"model":"ConcurrentSessions","seatLimit":1,"enforcement":null}"""))
            Assert.Equal(HttpStatusCode.OK, follow.StatusCode);
        Assert.Equal("shadow", (await JsonAsync("tenants/api-shadow")).GetProperty("enforcement").GetString());
    }

    [Fact]
    public async Task The_tenant_list_as_csv_names_each_tenants_enforcement()
    {
        var request = new HttpRequestMessage(HttpMethod.Get, "/_licensing/v1/tenants?limit=1000");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Operator);
        request.Headers.Accept.ParseAdd("text/csv");
        using var response = await Client.SendAsync(request);
        var lines = (await response.Content.ReadAsStringAsync()).Split("\r\n");
        Assert.Equal("tenant,model,seatLimit,activeUsers,activeSessions,enforcement", lines[0]);
        Assert.Contains(lines, l => l.StartsWith("shadowed,", StringComparison.Ordinal) && l.EndsWith(",shadow", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("enforced,", StringComparison.Ordinal) && l.EndsWith(",enforce", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("\"Shadow\"")]
    [InlineData("\"off\"")]
    [InlineData("\"\"")]
    [InlineData("1")]
    [InlineData("true")]
    public async Task A_bad_enforcement_is_400_invalid_request(string value)
    {
        using var r = await SendAsync(HttpMethod.Put, "tenants/bad-enforcement", $$"""{"model":"ConcurrentSessions","seatLimit":1,"enforcement":{{value}}}""");
        await r.AssertProblemAsync(HttpStatusCode.BadRequest, "invalid-request");
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
}

/// <summary><c>Licensing:Enforcement=Shadow</c> for every tenant, and a tenant's own entry overriding it.</summary>
public sealed class ShadowByDefaultTests(ShadowByDefaultTests.Fixture fixture) : IClassFixture<ShadowByDefaultTests.Fixture>
{
    public sealed class Fixture : GatewayFixture
    {
        protected override void Configure(GatewayFactory gateway) => gateway
            .With("Licensing:Enforcement", "Shadow")
            .WithTenant("default-shadow", LicenseModel.ConcurrentSessions, 1)
            .WithTenant("own-enforce", LicenseModel.ConcurrentSessions, 1)
            .With("Licensing:Tenants:own-enforce:Enforcement", "Enforce");
    }

    [Fact]
    public async Task The_global_default_shadows_and_a_tenants_entry_wins_over_it()
    {
        await (await fixture.Client.SendAsync(Get("/api/x", TestTokens.User("default-shadow", "a")))).AssertForwardedAsync();
        var over = await Echo.ReadAsync(await fixture.Client.SendAsync(Get("/api/x", TestTokens.User("default-shadow", "b"))));
        Assert.Equal("seats-exhausted", over.Header("X-Licensing-Shadow"));

        await (await fixture.Client.SendAsync(Get("/api/x", TestTokens.User("own-enforce", "a")))).AssertForwardedAsync();
        await (await fixture.Client.SendAsync(Get("/api/x", TestTokens.User("own-enforce", "b")))).AssertProblemAsync(HttpStatusCode.TooManyRequests, "seats-exhausted");
    }
}
