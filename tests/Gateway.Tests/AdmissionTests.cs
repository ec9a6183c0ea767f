using System.Net;
using Gateway.Licensing.Rules;
using Gateway.Tests.Support;
using static Gateway.Tests.Support.GatewayRequests;

namespace Gateway.Tests;

/// <summary>What the store's decisions become at the edge (plans seeded from configuration).</summary>
public sealed class AdmissionTests(AdmissionTests.Fixture fixture) : IClassFixture<AdmissionTests.Fixture>
{
    public sealed class Fixture : GatewayFixture
    {
        protected override void Configure(GatewayFactory gateway) => gateway
            .WithTenant("reg", LicenseModel.RegisteredUsers, 2, activeUsers: ["alice", "bob"])
            .WithTenant("full", LicenseModel.ConcurrentSessions, 1)
            .WithTenant("pre", LicenseModel.RegisteredUsers, 2, activeUsers: ["alice", "bob"])
            .WithTenant("conc", LicenseModel.ConcurrentSessions, 3, reservedUsers: ["boss"]);
    }

    private HttpClient Client => fixture.Client;

    [Fact]
    public async Task Config_seeded_registered_users_plan_admits_its_active_users()
    {
        var echo = await Echo.ReadAsync(await Client.SendAsync(Get("/api/x", TestTokens.User("reg", "alice"))));

        Assert.Equal("reg", echo.Header("X-Licensing-Tenant"));
        Assert.Matches("^[A-Za-z0-9_-]{22}$", echo.Header("X-Licensing-Session"));
    }

    [Fact]
    public async Task Config_seeded_concurrent_sessions_plan_admits_any_user()
    {
        await (await Client.SendAsync(Get("/api/x", TestTokens.User("conc", "anyone")))).AssertForwardedAsync();
    }

    [Fact]
    public async Task Tenant_without_plan_is_403_tenant_unlicensed()
    {
        var response = await Client.SendAsync(Get("/api/x", TestTokens.User("nobody-licensed-this", "alice")));
        await response.AssertProblemAsync(HttpStatusCode.Forbidden, "tenant-unlicensed");
    }

    [Fact]
    public async Task Inactive_user_is_403_user_inactive()
    {
        var response = await Client.SendAsync(Get("/api/x", TestTokens.User("reg", "carol")));
        await response.AssertProblemAsync(HttpStatusCode.Forbidden, "user-inactive");
    }

    [Fact]
    public async Task Full_tenant_is_429_seats_exhausted_with_retry_after_and_the_callers_sessions()
    {
        var first = await Echo.ReadAsync(await Client.SendAsync(Get("/api/x", TestTokens.User("full", "dave"), device: "d1")));
        var daveSession = first.Header("X-Licensing-Session");

        // Dave on a second device: the seat is his, so he is told which session to end.
        var again = await Client.SendAsync(Get("/api/x", TestTokens.User("full", "dave"), device: "d2"));
        var body = await again.AssertProblemAsync(HttpStatusCode.TooManyRequests, "seats-exhausted");
        Assert.Equal(1, body.GetProperty("seatLimit").GetInt32());
        Assert.Equal(1, body.GetProperty("activeSessions").GetInt32());
        Assert.Equal([daveSession], body.GetProperty("yourSessions").EnumerateArray().Select(e => e.GetString()));
        var retryAfter = int.Parse(again.Header("Retry-After")!);
        Assert.InRange(retryAfter, 1, 21 * 60); // until the least recently used session idles out: IdleTimeout + TouchInterval after its last recorded use

        // Someone else: no session of theirs to end.
        var other = await Client.SendAsync(Get("/api/x", TestTokens.User("full", "erin"), device: "e1"));
        var otherBody = await other.AssertProblemAsync(HttpStatusCode.TooManyRequests, "seats-exhausted");
        Assert.Empty(otherBody.GetProperty("yourSessions").EnumerateArray());
        Assert.NotNull(other.Header("Retry-After"));

        // The admitted session itself keeps working.
        await (await Client.SendAsync(Get("/api/x", TestTokens.User("full", "dave"), device: "d1"))).AssertForwardedAsync();
    }

    [Fact]
    public async Task Preempted_outcome_forwards_like_admitted()
    {
        // Alice fills both seats (her second session is borrowed); Bob's first session preempts it.
        await (await Client.SendAsync(Get("/api/x", TestTokens.User("pre", "alice"), device: "a1"))).AssertForwardedAsync();
        await (await Client.SendAsync(Get("/api/x", TestTokens.User("pre", "alice"), device: "a2"))).AssertForwardedAsync();

        await (await Client.SendAsync(Get("/api/x", TestTokens.User("pre", "bob"), device: "b1"))).AssertForwardedAsync();

        var tenant = await fixture.Gateway.Store.GetTenantAsync("pre");
        Assert.Equal(2, tenant!.ActiveSessions);
    }
}
