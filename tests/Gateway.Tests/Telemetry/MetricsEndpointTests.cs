using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Net;
using System.Text.RegularExpressions;
using Gateway.Licensing.Rules;
using Gateway.Licensing.Telemetry;
using Gateway.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using static Gateway.Tests.Support.GatewayRequests;

namespace Gateway.Tests.Telemetry;

/// <summary>The Prometheus endpoint and the store-wide seat gauges.</summary>
public sealed class MetricsEndpointTests(MetricsEndpointTests.Fixture fixture) : IClassFixture<MetricsEndpointTests.Fixture>
{
    private const string Tenant = "metrics";

    public sealed class Fixture : GatewayFixture
    {
        protected override void Configure(GatewayFactory gateway) =>
            gateway.WithTenant(Tenant, LicenseModel.RegisteredUsers, 5, activeUsers: ["alice", "bob"]);
    }

    [Fact]
    public async Task Prometheus_text_has_the_seat_gauges_per_tenant_and_the_admissions_counter()
    {
        await (await fixture.Client.SendAsync(Get("/api/x", TestTokens.User(Tenant, "alice")))).AssertForwardedAsync();
        await fixture.Client.SendAsync(Get("/api/x", TestTokens.User(Tenant, "mallory")));

        // The gauges are sampled from the store in the background: present within 10 s of start.
        var deadline = Stopwatch.StartNew();
        string text;
        while (true)
        {
            var response = await fixture.Client.GetAsync("/_licensing/metrics");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            text = await response.Content.ReadAsStringAsync();
            if (Sample(text, "licensing_session_active", Tenant) == 1) break;
            Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(12), "seat gauges did not appear:\n" + text);
            await Task.Delay(250);
        }

        Assert.Equal(5, Sample(text, "licensing_seat_limit", Tenant));
        Assert.Equal(2, Sample(text, "licensing_user_active", Tenant));
        Assert.Matches(new Regex(@"^licensing_session_admissions_total\{[^}]*licensing_result=""admitted""[^}]*\} 1\b", RegexOptions.Multiline), text);
        Assert.Matches(new Regex(@"^licensing_session_admissions_total\{[^}]*licensing_result=""user_inactive""[^}]*\} 1\b", RegexOptions.Multiline), text);
        Assert.Matches(new Regex(@"^licensing_session_admission_duration_seconds_bucket\{", RegexOptions.Multiline), text);
        Assert.DoesNotContain("alice", text);
    }

    [Fact]
    public async Task Prometheus_text_has_the_standard_http_metrics_the_dashboard_reads()
    {
        await (await fixture.Client.SendAsync(Get("/api/standard", TestTokens.User(Tenant, "alice")))).AssertForwardedAsync();

        var text = await fixture.Client.GetStringAsync("/_licensing/metrics");

        // config/grafana/dashboards/seat-gateway.json and config/prometheus-alerts.yml read these.
        Assert.Matches(new Regex(@"^http_server_request_duration_seconds_bucket\{", RegexOptions.Multiline), text);
        Assert.Matches(new Regex(@"^http_server_active_requests\{", RegexOptions.Multiline), text);
        Assert.Matches(new Regex(@"^http_client_request_duration_seconds_bucket\{", RegexOptions.Multiline), text);
        // Left off on purpose: per-request up/down counters that cost every proxied request.
        Assert.DoesNotContain("http_client_open_connections", text);
        Assert.DoesNotContain("http_client_active_requests", text);
    }

    [Fact]
    public async Task Gauges_equal_the_stores_counts_with_two_gateways_on_one_store()
    {
        await using var second = new GatewayFactory(fixture.Redis.ConnectionString, fixture.Backend.BaseAddress)
            .WithTenant(Tenant, LicenseModel.RegisteredUsers, 5, activeUsers: ["alice", "bob"]);
        var secondClient = await second.StartAsync();

        await (await fixture.Client.SendAsync(Get("/api/x", TestTokens.User(Tenant, "bob"), device: "b1"))).AssertForwardedAsync();
        // The same session through the other replica: refreshed, never counted twice.
        await (await secondClient.SendAsync(Get("/api/x", TestTokens.User(Tenant, "bob"), device: "b1"))).AssertForwardedAsync();

        var snapshot = await fixture.Gateway.Store.GetTenantAsync(Tenant);
        foreach (var gateway in new[] { fixture.Gateway, second })
        {
            var meters = gateway.Services.GetRequiredService<IMeterFactory>();
            using var sessions = new MetricCollector<int>(meters, LicensingMetrics.MeterName, "licensing.session.active");
            using var users = new MetricCollector<int>(meters, LicensingMetrics.MeterName, "licensing.user.active");
            await gateway.Services.GetRequiredService<TenantGauges>().SampleAsync();
            sessions.RecordObservableInstruments();
            users.RecordObservableInstruments();
            Assert.Equal(snapshot!.ActiveSessions, sessions.GetMeasurementSnapshot().Single(m => (string?)m.Tags["licensing.tenant"] == Tenant).Value);
            Assert.Equal(snapshot.ActiveUsers, users.GetMeasurementSnapshot().Single(m => (string?)m.Tags["licensing.tenant"] == Tenant).Value);
        }
        Assert.InRange(snapshot!.ActiveSessions, 1, 2);
    }

    private static int? Sample(string text, string metric, string tenant)
    {
        var match = Regex.Match(text, $@"^{metric}\{{[^}}]*licensing_tenant=""{tenant}""[^}}]*\}} (\d+)", RegexOptions.Multiline);
        return match.Success ? int.Parse(match.Groups[1].Value) : null;
    }
}

/// <summary><c>Licensing:Metrics:Expose=false</c> turns the endpoint off.</summary>
public sealed class MetricsHiddenTests(MetricsHiddenTests.Fixture fixture) : IClassFixture<MetricsHiddenTests.Fixture>
{
    public sealed class Fixture : GatewayFixture
    {
        protected override void Configure(GatewayFactory gateway) => gateway.With("Licensing:Metrics:Expose", "false");
    }

    [Fact]
    public async Task Metrics_can_be_turned_off()
    {
        var response = await fixture.Client.GetAsync("/_licensing/metrics");
        await response.AssertProblemAsync(HttpStatusCode.NotFound, "not-found");
    }
}

/// <summary>Readiness follows the store: 503 within a second of it going away, 200 again after it returns.</summary>
public sealed class ReadinessTests(ReadinessTests.Fixture fixture) : IClassFixture<ReadinessTests.Fixture>
{
    public sealed class Fixture : GatewayFixture
    {
        protected override void Configure(GatewayFactory gateway) { }
    }

    [Fact]
    public async Task Readyz_turns_503_within_a_second_of_the_store_going_away_and_200_after_it_returns()
    {
        Assert.Equal(HttpStatusCode.OK, (await fixture.Client.GetAsync("/_licensing/readyz")).StatusCode);
        await fixture.Redis.StopAsync();
        try
        {
            var stopped = Stopwatch.StartNew();
            while ((await fixture.Client.GetAsync("/_licensing/readyz")).StatusCode != HttpStatusCode.ServiceUnavailable)
            {
                Assert.True(stopped.Elapsed < TimeSpan.FromSeconds(1), "readyz still 200 a second after the store died");
                await Task.Delay(20);
            }
            Assert.True(stopped.Elapsed < TimeSpan.FromSeconds(1));
        }
        finally
        {
            await fixture.Redis.StartAsync();
        }
        var restarted = Stopwatch.StartNew();
        while ((await fixture.Client.GetAsync("/_licensing/readyz")).StatusCode != HttpStatusCode.OK)
        {
            Assert.True(restarted.Elapsed < TimeSpan.FromSeconds(15), "readyz did not recover");
            await Task.Delay(100);
        }
    }
}
