using System.Diagnostics;
using Gateway.Licensing.Rules;
using Gateway.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using static Gateway.Tests.Support.GatewayRequests;

namespace Gateway.Tests.Telemetry;

/// <summary>
/// <c>config/check-dashboard.py</c> against a real scrape of the gateway after traffic: every metric
/// the dashboard and the alert rules name is exported under that name, except the two counters that
/// only a store outage makes (store errors, fail-open forwards).
/// </summary>
public sealed class DashboardCheckTests(DashboardCheckTests.Fixture fixture) : IClassFixture<DashboardCheckTests.Fixture>
{
    private const string Tenant = "dashboard";

    public sealed class Fixture : GatewayFixture
    {
        protected override void Configure(GatewayFactory gateway) =>
            gateway.WithTenant(Tenant, LicenseModel.RegisteredUsers, 2, activeUsers: ["alice"]);
    }

    [Fact]
    public async Task Every_metric_the_dashboard_and_the_alerts_name_is_in_a_real_scrape()
    {
        var admitted = await Echo.ReadAsync(await fixture.Client.SendAsync(Get("/api/x", TestTokens.User(Tenant, "alice"))));
        await fixture.Client.SendAsync(Get("/api/x", TestTokens.User(Tenant, "mallory")));
        await fixture.Gateway.Store.EndSessionAsync(Tenant, admitted.Header("X-Licensing-Session")!, "revoked", "test");
        await fixture.Gateway.Services.GetRequiredService<Gateway.Licensing.Telemetry.TenantGauges>().SampleAsync();
        var scrape = Path.Combine(Path.GetTempPath(), $"scrape-{Guid.NewGuid():N}.txt");
        await File.WriteAllTextAsync(scrape, await fixture.Client.GetStringAsync("/_licensing/metrics"));
        try
        {
            var start = new ProcessStartInfo("python3") { RedirectStandardOutput = true, RedirectStandardError = true };
            start.ArgumentList.Add(ConfigSampleTests.RepoFile("config/check-dashboard.py"));
            start.ArgumentList.Add(scrape);
            using var process = Process.Start(start)!;
            var output = await process.StandardOutput.ReadToEndAsync();
            var errors = await process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync();

            Assert.True(process.ExitCode == 0, output + errors);
            var notInScrape = output.Split('\n').Where(l => l.StartsWith("  no data", StringComparison.Ordinal) || l.StartsWith("  MISSING", StringComparison.Ordinal))
                .Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[^1]).Order().ToArray();
            Assert.Equal(["licensing_session_fail_open_total", "licensing_store_errors_total"], notInScrape);
        }
        finally
        {
            File.Delete(scrape);
        }
    }
}
