using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Reflection;
using System.Text;
using System.Text.RegularExpressions;
using Gateway.Licensing.Rules;
using Gateway.Licensing.Telemetry;
using Gateway.Management;
using Gateway.Tests.Hostile;
using Gateway.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using static Gateway.Tests.Support.GatewayRequests;

namespace Gateway.Tests.Telemetry;

/// <summary>
/// Telemetry that tells the truth: <c>OTEL_SERVICE_NAME</c> and <c>OTEL_RESOURCE_ATTRIBUTES</c> win
/// over the built-in name, <c>service.version</c> is the product's; the admission and end counters
/// name the tenant (at most <c>Licensing:Metrics:MaxTenants</c> of them, the rest as <c>other</c>);
/// every admin change writes one Information line, never a token.
/// </summary>
public sealed class TelemetryTruthTests(TelemetryTruthTests.Fixture fixture) : IClassFixture<TelemetryTruthTests.Fixture>
{
    private static readonly string Operator = TestTokens.User("ops", "olga", ("role", ManagementCaller.OperatorRole));

    public sealed class Fixture : GatewayFixture
    {
        public CapturedLogs Logs { get; } = new();

        protected override void Configure(GatewayFactory gateway) => gateway
            .WithTenant("aa-first", LicenseModel.ConcurrentSessions, 10)
            .WithTenant("zz-second", LicenseModel.ConcurrentSessions, 10)
            .With("Licensing:Metrics:MaxTenants", "1")
            .With("OTEL_SERVICE_NAME", "erp-gateway-eu")
            .With("OTEL_RESOURCE_ATTRIBUTES", "deployment.environment=prod,service.namespace=erp")
            .WithLogging(Logs.AddTo);
    }

    private static string ProductVersion =>
        typeof(Gateway.Hosting.SeatGatewayServiceExtensions).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()!.InformationalVersion.Split('+')[0];

    private static Dictionary<string, object> Resource(IServiceProvider services) =>
        services.GetRequiredService<MeterProvider>().GetResource().Attributes.ToDictionary(a => a.Key, a => a.Value);

    [Fact]
    public void The_otel_environment_wins_over_the_built_in_service_name()
    {
        var resource = Resource(fixture.Gateway.Services);

        Assert.Equal("erp-gateway-eu", resource["service.name"]);
        Assert.Equal("prod", resource["deployment.environment"]);
        Assert.Equal("erp", resource["service.namespace"]);
        Assert.Equal(ProductVersion, resource["service.version"]);
    }

    [Fact]
    public async Task Without_otel_settings_the_service_is_seat_gateway_at_the_products_version()
    {
        await using var plain = new GatewayFactory(fixture.Redis.ConnectionString, fixture.Backend.BaseAddress);
        using var client = await plain.StartAsync();

        var resource = Resource(plain.Services);

        Assert.Equal("seat-gateway", resource["service.name"]);
        Assert.Equal(ProductVersion, resource["service.version"]);
        Assert.Matches(@"^\d+\.\d+\.\d+", ProductVersion);
    }

    [Fact]
    public async Task Admissions_and_ended_sessions_name_the_tenant_up_to_max_tenants_and_the_rest_other()
    {
        await fixture.Gateway.Services.GetRequiredService<TenantGauges>().SampleAsync();

        var first = await Echo.ReadAsync(await fixture.Client.SendAsync(Get("/api/x", TestTokens.User("aa-first", "ann"))));
        var second = await Echo.ReadAsync(await fixture.Client.SendAsync(Get("/api/x", TestTokens.User("zz-second", "sam"))));
        await fixture.Client.SendAsync(Get("/api/x", TestTokens.User("no-plan-" + Guid.NewGuid().ToString("N")[..6], "x")));
        Assert.True(await fixture.Gateway.Store.EndSessionAsync("aa-first", first.Header("X-Licensing-Session")!, "revoked", "test"));
        Assert.True(await fixture.Gateway.Store.EndSessionAsync("zz-second", second.Header("X-Licensing-Session")!, "revoked", "test"));

        var text = await (await fixture.Client.GetAsync("/_licensing/metrics")).Content.ReadAsStringAsync();

        Assert.Matches(Series("licensing_session_admissions_total", "licensing_result", "admitted", "aa-first"), text);
        Assert.Matches(Series("licensing_session_admissions_total", "licensing_result", "admitted", "other"), text);
        Assert.Matches(Series("licensing_session_admissions_total", "licensing_result", "tenant_unlicensed", "other"), text);
        Assert.Matches(Series("licensing_session_ended_total", "licensing_end_reason", "revoked", "aa-first"), text);
        Assert.Matches(Series("licensing_session_ended_total", "licensing_end_reason", "revoked", "other"), text);
        Assert.DoesNotMatch(@"licensing_tenant=""zz-second""[^\n]*\n", Regex.Replace(text, @"^licensing_(session_active|user_active|seat_limit)\{.*$", "", RegexOptions.Multiline));
        Assert.DoesNotContain("no-plan-", text);
    }

    private static Regex Series(string metric, string label, string value, string tenant) =>
        new($@"^{metric}\{{(?=[^}}]*{label}=""{value}"")(?=[^}}]*licensing_tenant=""{tenant}"")[^}}]*\}} \d", RegexOptions.Multiline);

    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string? body = null)
    {
        var request = new HttpRequestMessage(method, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Operator);
        if (body is not null) request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        return await fixture.Client.SendAsync(request);
    }

    [Fact]
    public async Task Every_admin_change_writes_one_information_line_naming_actor_tenant_action_and_subject()
    {
        var tenant = "audit-" + Guid.NewGuid().ToString("N")[..8];
        var changes = new (HttpMethod Method, string Path, string? Body, string Action, string Subject)[]
        {
            (HttpMethod.Put, $"/_licensing/v1/tenants/{tenant}", """{"model":"RegisteredUsers","seatLimit":3}""", "plan-changed", "RegisteredUsers"),
            (HttpMethod.Put, $"/_licensing/v1/tenants/{tenant}/users/carol", """{"active":true}""", "user-activated", "carol"),
            (HttpMethod.Patch, $"/_licensing/v1/tenants/{tenant}/users", """{"users":[{"userId":"dave","active":true},{"userId":"erin","active":false}]}""", "users-changed", "dave"),
            (HttpMethod.Post, $"/_licensing/v1/tenants/{tenant}/users/swap", """{"deactivate":"dave","activate":"frank"}""", "users-swapped", "frank"),
            (HttpMethod.Put, $"/_licensing/v1/tenants/{tenant}/users/carol", """{"active":false}""", "user-deactivated", "carol"),
        };
        foreach (var (method, path, body, action, subject) in changes)
        {
            fixture.Logs.Clear();
            using var response = await SendAsync(method, path, body);
            Assert.True(response.IsSuccessStatusCode, $"{method} {path}: {(int)response.StatusCode}");

            var line = Assert.Single(AdminLines());
            Assert.Contains(action, line.Message, StringComparison.Ordinal);
            Assert.Contains("olga@ops", line.Message, StringComparison.Ordinal);
            Assert.Contains(tenant, line.Message, StringComparison.Ordinal);
            Assert.Contains(subject, line.Message, StringComparison.Ordinal);
        }

        // Ending a session names the session; a refused change writes no line.
        var session = await Echo.ReadAsync(await fixture.Client.SendAsync(Get("/api/x", TestTokens.User(tenant, "frank"))));
        var sessionId = session.Header("X-Licensing-Session")!;
        fixture.Logs.Clear();
        using (var ended = await SendAsync(HttpMethod.Delete, $"/_licensing/v1/tenants/{tenant}/sessions/{sessionId}"))
            Assert.Equal(HttpStatusCode.NoContent, ended.StatusCode);
        var endLine = Assert.Single(AdminLines());
        Assert.Contains("session-ended", endLine.Message, StringComparison.Ordinal);
        Assert.Contains(sessionId, endLine.Message, StringComparison.Ordinal);

        fixture.Logs.Clear();
        using (var refused = await SendAsync(HttpMethod.Put, $"/_licensing/v1/tenants/{tenant}", """{"model":"RegisteredUsers","seatLimit":0}"""))
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Empty(AdminLines());

        Assert.DoesNotContain(fixture.Logs.Entries, e => e.AllText.Contains(Operator.Split('.')[1], StringComparison.Ordinal));
    }

    private IEnumerable<CapturedLog> AdminLines() =>
        fixture.Logs.Entries.Where(e => e.Level == LogLevel.Information && e.Category.EndsWith("AdminChangeLog", StringComparison.Ordinal));
}
