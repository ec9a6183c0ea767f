using Gateway.Licensing.Rules;
using Gateway.Tests.Support;
using static Gateway.Tests.Support.GatewayRequests;

namespace Gateway.Tests;

/// <summary>What reaches the backend.</summary>
public sealed class ForwardingTests(ForwardingTests.Fixture fixture) : IClassFixture<ForwardingTests.Fixture>
{
    private const string Tenant = "fwd";

    public sealed class Fixture : GatewayFixture
    {
        protected override void Configure(GatewayFactory gateway) => gateway.WithTenant(Tenant, LicenseModel.ConcurrentSessions, 20);
    }

    [Fact]
    public async Task Enforced_route_adds_session_and_tenant_strips_inbound_licensing_headers_and_keeps_authorization()
    {
        var token = TestTokens.User(Tenant, "alice");
        var request = Get("/api/orders?top=5", token)
            .WithHeader("X-Licensing-Session", "forged-session")
            .WithHeader("X-Licensing-Tenant", "someone-else")
            .WithHeader("x-licensing-whatever", "1");

        var echo = await Echo.ReadAsync(await fixture.Client.SendAsync(request));

        Assert.Equal("/api/orders", echo.Path);
        Assert.Equal(Tenant, echo.Header("X-Licensing-Tenant"));
        Assert.Matches("^[A-Za-z0-9_-]{22}$", echo.Header("X-Licensing-Session"));
        Assert.NotEqual("forged-session", echo.Header("X-Licensing-Session"));
        Assert.Null(echo.Header("X-Licensing-Whatever"));
        Assert.Equal($"Bearer {token}", echo.Header("Authorization"));
    }

    [Fact]
    public async Task Off_route_forwards_without_a_token_and_still_strips_licensing_headers()
    {
        var echo = await Echo.ReadAsync(await fixture.Client.SendAsync(
            Get("/open/landing", token: null).WithHeader("X-Licensing-Session", "forged").WithHeader("X-Licensing-Tenant", "forged")));

        Assert.Null(echo.Header("X-Licensing-Session"));
        Assert.Null(echo.Header("X-Licensing-Tenant"));
    }

    [Fact]
    public async Task Off_route_forwards_even_an_invalid_token_untouched()
    {
        var echo = await Echo.ReadAsync(await fixture.Client.SendAsync(Get("/open/token", token: "not-a-jwt")));
        Assert.Equal("Bearer not-a-jwt", echo.Header("Authorization"));
    }
}
