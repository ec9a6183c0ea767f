using System.Net;
using Gateway.Licensing.Rules;
using Gateway.Licensing.Store;
using Gateway.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
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

    public sealed class Fixture : GatewayFixture
    {
        protected override void Configure(GatewayFactory gateway) => gateway
            .With("Licensing:ServiceSessionLifetime", Lifetime.ToString())
            .With("Licensing:SweepInterval", "00:00:30");
    }

    [Fact]
    public async Task No_request_is_forwarded_on_a_service_session_past_its_deadline()
    {
        var trials = Trials.Count(1);
        var latestStart = TimeSpan.MinValue;
        var latestArrival = TimeSpan.MinValue;
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

            // Traffic every 50 ms until well past the deadline; each request says when the client sent it.
            var sentAt = new List<DateTimeOffset>();
            while (DateTimeOffset.UtcNow < deadline + TimeSpan.FromSeconds(1.5))
            {
                sentAt.Add(DateTimeOffset.UtcNow);
                using var response = await fixture.Client.SendAsync(Get("/api/work", token, device: null).WithHeader(RequestNumber, $"{sentAt.Count - 1}"));
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                await Task.Delay(50);
            }

            // The session ended at its lifetime and a new one (same id, a new start) took the traffic on.
            // A request the backend received before that new start was forwarded on the old session: it
            // must have been sent before the deadline (the gateway decided on it before then).
            var live = (await fixture.Gateway.Services.GetRequiredService<LicenseQueries>().ListSessionsAsync(tenant, null, null, 10)).Sessions;
            var restart = Assert.Single(live, s => s.SessionId == session).StartedAt;
            Assert.True(restart >= deadline, $"the session live now started {restart:O}, before the old one's deadline {deadline:O}");
            var onOldSession = fixture.Backend.Received
                .Where(r => r.Header("X-Licensing-Tenant") == tenant && r.Header(RequestNumber) is not null && r.ReceivedAt < restart)
                .Select(r => (SentAt: sentAt[int.Parse(r.Header(RequestNumber)!)], r.ReceivedAt)).ToArray();
            Assert.NotEmpty(onOldSession);
            foreach (var (sent, received) in onOldSession)
            {
                Assert.True(sent <= deadline, $"a request sent {(sent - deadline).TotalMilliseconds:F0} ms after its service session's deadline was forwarded on that session");
                latestStart = sent - deadline > latestStart ? sent - deadline : latestStart;
                latestArrival = received - deadline > latestArrival ? received - deadline : latestArrival;
            }
            Assert.Contains(fixture.Backend.Received, r => r.Header("X-Licensing-Tenant") == tenant && r.ReceivedAt >= restart);
        }
        output.WriteLine($"{trials} trials: the last request forwarded on an expired service session was sent {Ms(latestStart)} and reached the backend {Ms(latestArrival)} its deadline");
    }

    private const string RequestNumber = "X-Test-Request";

    private static string Ms(TimeSpan t) => t < TimeSpan.Zero ? $"{-t.TotalMilliseconds:F0} ms before" : $"{t.TotalMilliseconds:F0} ms after";
}
