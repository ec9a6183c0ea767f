using System.Net;
using System.Text.Json;
using Gateway.Licensing.Rules;
using Gateway.Licensing.Store;
using Gateway.Tests.Support;
using Xunit.Abstractions;
using static Gateway.Tests.Support.GatewayRequests;

namespace Gateway.Tests;

/// <summary>
/// A service (client-credentials) session ends at its lifetime whatever its traffic: no request is
/// forwarded on it past that instant, and the next request opens a new session. Through the real gateway
/// on a real redis-server, with the sweep far away (30 s) so only the request path can end it.
/// </summary>
public sealed class ServiceLifetimeTests(ServiceLifetimeTests.Fixture fixture, ITestOutputHelper output) : IClassFixture<ServiceLifetimeTests.Fixture>
{
    private static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(2);

    /// <summary>What a request decided just before the deadline may take to reach the backend on a busy machine.</summary>
    private static readonly TimeSpan ProxyLatency = TimeSpan.FromMilliseconds(250);

    public sealed class Fixture : GatewayFixture
    {
        protected override void Configure(GatewayFactory gateway) => gateway
            .With("Licensing:ServiceSessionLifetime", Lifetime.ToString())
            .With("Licensing:SweepInterval", "00:00:30");
    }

    private sealed record AuditEntry(long At, string Action, string? Session, string? Reason);

    private async Task<AuditEntry[]> AuditAsync(string tenant)
    {
        var raw = await fixture.Redis.Connection.GetDatabase().ListRangeAsync(TenantKeys.For(tenant)[TenantKeys.Audit]);
        return raw.Select(r => JsonDocument.Parse((string)r!).RootElement).Select(e => new AuditEntry(
            e.GetProperty("at").GetInt64(),
            e.GetProperty("action").GetString()!,
            e.TryGetProperty("session", out var s) ? s.GetString() : null,
            e.TryGetProperty("reason", out var r) ? r.GetString() : null)).ToArray();
    }

    [Fact]
    public async Task No_request_is_forwarded_on_a_service_session_past_its_deadline()
    {
        var trials = Trials.Count(1);
        var latestPast = TimeSpan.MinValue;
        for (var trial = 0; trial < trials; trial++)
        {
            var tenant = "svc-" + Guid.NewGuid().ToString("N")[..10];
            await fixture.Gateway.Store.SetPlanAsync(tenant, new TenantPlan(LicenseModel.ConcurrentSessions, 5, []), false, "test");
            var token = TestTokens.Service(tenant, "nightly-export");

            using (var first = await fixture.Client.SendAsync(Get("/api/work", token, device: null))) Assert.Equal(HttpStatusCode.OK, first.StatusCode);
            var session = fixture.Backend.Received.Last(r => r.Header("X-Licensing-Tenant") == tenant).Header("X-Licensing-Session")!;
            var deadlineMs = await fixture.Redis.Connection.GetDatabase().SortedSetScoreAsync(TenantKeys.For(tenant)[TenantKeys.Service], session);
            Assert.NotNull(deadlineMs);
            var deadline = DateTimeOffset.FromUnixTimeMilliseconds((long)deadlineMs.Value);

            // Traffic every 50 ms until well past the deadline.
            while (DateTimeOffset.UtcNow < deadline + TimeSpan.FromSeconds(1.5))
            {
                using var response = await fixture.Client.SendAsync(Get("/api/work", token, device: null));
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                await Task.Delay(50);
            }

            // Every request the backend got after the deadline belongs to a new session: one the store
            // started (after the old one ended for its lifetime) before the request arrived.
            var audit = await AuditAsync(tenant);
            Assert.Contains(audit, e => e.Action == "session-ended" && e.Session == session && e.Reason == "lifetime");
            var restarts = audit.Where(e => e.Action == "session-started" && e.Session == session && e.At >= deadlineMs.Value)
                .Select(e => DateTimeOffset.FromUnixTimeMilliseconds(e.At)).Order().ToArray();
            var received = fixture.Backend.Received.Where(r => r.Header("X-Licensing-Tenant") == tenant).ToArray();
            foreach (var request in received.Where(r => r.ReceivedAt > deadline))
            {
                var onOldSession = !restarts.Any(started => started <= request.ReceivedAt);
                if (!onOldSession) continue;
                var past = request.ReceivedAt - deadline;
                latestPast = past > latestPast ? past : latestPast;
                Assert.True(past <= ProxyLatency,
                    $"a request reached the backend {past.TotalMilliseconds:F0} ms after its service session's deadline, before any new session was opened");
            }
            Assert.Contains(received, r => r.ReceivedAt > deadline + ProxyLatency); // the new session carries the traffic on
        }
        output.WriteLine(latestPast == TimeSpan.MinValue
            ? $"{trials} trials: no request of an expired service session reached the backend after its deadline"
            : $"{trials} trials: the latest request of an expired service session reached the backend {latestPast.TotalMilliseconds:F0} ms after its deadline");
    }
}
