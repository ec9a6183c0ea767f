using System.Diagnostics;
using System.Net;
using Gateway.Licensing.Rules;
using Gateway.Tests.Support;
using Xunit.Abstractions;
using static Gateway.Tests.Support.GatewayRequests;

namespace Gateway.Tests;

/// <summary>
/// Sliding idle expiry through the real gateway on a real redis-server, with lazy touches: a session ends
/// between IdleTimeout and IdleTimeout + TouchInterval after its last request, never before, however the
/// touches were batched. IdleTimeout 3 s, TouchInterval 1 s.
/// </summary>
public sealed class IdleExpiryTests(IdleExpiryTests.Fixture fixture, ITestOutputHelper output) : IClassFixture<IdleExpiryTests.Fixture>
{
    private static readonly TimeSpan Idle = TimeSpan.FromSeconds(3);
    private static readonly TimeSpan Touch = TimeSpan.FromSeconds(1);

    public sealed class Fixture : GatewayFixture
    {
        protected override void Configure(GatewayFactory gateway) => gateway
            .With("Licensing:IdleTimeout", Idle.ToString())
            .With("Licensing:TouchInterval", Touch.ToString())
            .With("Licensing:SweepInterval", "00:00:00.5");
    }

    private async Task<string> NewTenantAsync()
    {
        var tenant = "idle-" + Guid.NewGuid().ToString("N")[..10];
        await fixture.Gateway.Store.SetPlanAsync(tenant, new TenantPlan(LicenseModel.ConcurrentSessions, 1, []), false, "test");
        return tenant;
    }

    private async Task<(HttpStatusCode Status, TimeSpan Started, TimeSpan Ended)> SendAsync(Stopwatch clock, string tenant, string user)
    {
        var started = clock.Elapsed;
        using var response = await fixture.Client.SendAsync(Get("/api/x", TestTokens.User(tenant, user)));
        return (response.StatusCode, started, clock.Elapsed);
    }

    [Fact]
    public async Task A_session_used_from_the_local_cache_never_idles_out_before_the_idle_timeout()
    {
        // The case: the last request came from the local cache within a touch interval of the
        // admission, so no touch followed it; 2.3 s later another user took the seat.
        var trials = Trials.Count(1);
        var earliest = TimeSpan.MaxValue;
        var latest = TimeSpan.Zero;
        for (var trial = 0; trial < trials; trial++)
        {
            var tenant = await NewTenantAsync();
            var clock = Stopwatch.StartNew();
            Assert.Equal(HttpStatusCode.OK, (await SendAsync(clock, tenant, "alice")).Status);
            // The last request lands anywhere in the first touch interval after the admission (by default
            // early in it: the old code then lost the seat up to 0.9 s early).
            await Task.Delay(TimeSpan.FromMilliseconds(trials == 1 ? 100 : 100 + (800.0 * trial / (trials - 1))));
            var last = await SendAsync(clock, tenant, "alice");
            Assert.Equal(HttpStatusCode.OK, last.Status);

            await Task.Delay(last.Ended + TimeSpan.FromSeconds(2.3) - clock.Elapsed);
            var taken = await SendAsync(clock, tenant, "bob");
            // Unless the machine stalled for most of a second, the two requests reached the gateway less
            // than the idle timeout apart: the seat must still be alice's.
            if (taken.Ended - last.Started < Idle)
            {
                Assert.True(taken.Status == HttpStatusCode.TooManyRequests,
                    $"a session last used {(taken.Started - last.Ended).TotalSeconds:F2} s earlier lost its seat to another user (idle timeout {Idle.TotalSeconds} s)");
            }

            // Then the seat frees between IdleTimeout and IdleTimeout + TouchInterval after the last request.
            var refused = taken;
            var admitted = taken;
            while (admitted.Status != HttpStatusCode.OK)
            {
                Assert.Equal(HttpStatusCode.TooManyRequests, admitted.Status);
                Assert.True(clock.Elapsed - last.Started < Idle + Touch + TimeSpan.FromSeconds(3), "the session outlived IdleTimeout + TouchInterval by 3 s");
                await Task.Delay(50);
                refused = admitted;
                admitted = await SendAsync(clock, tenant, "bob");
            }
            // The seat was taken between the last refusal and this admission; the last request reached the
            // gateway between its start and its end. Bounds on (end of the session - last request):
            var atLeast = refused.Started - last.Ended;
            var atMost = admitted.Ended - last.Started;
            Assert.True(atMost >= Idle, $"the session ended at most {atMost.TotalSeconds:F2} s after its last request, before the idle timeout");
            earliest = atLeast < earliest ? atLeast : earliest;
            latest = atMost > latest ? atMost : latest;
        }
        output.WriteLine($"{trials} trials: session ended no earlier than {earliest.TotalSeconds:F2} s and no later than {latest.TotalSeconds:F2} s after its last request (IdleTimeout {Idle.TotalSeconds} s, TouchInterval {Touch.TotalSeconds} s)");
    }
}
