using System.Net;
using Gateway.Licensing.Rules;
using Gateway.Tests.Support;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.DependencyInjection;
using static Gateway.Tests.Support.GatewayRequests;

namespace Gateway.Tests.Authentication;

/// <summary>
/// Where JwtBearer runs: once per token on the proxy path (later requests take the validated token
/// from the cache), never on an <c>Off</c> route, and on every management request. The handler's
/// runs are counted with its <c>MessageReceived</c> event, which it raises first on each run.
/// </summary>
public sealed class ProxyAuthenticationTests(ProxyAuthenticationTests.Fixture fixture) : IClassFixture<ProxyAuthenticationTests.Fixture>
{
    private const string Tenant = "proxy-auth";

    public sealed class Fixture : GatewayFixture
    {
        private int _handlerRuns;

        public int HandlerRuns => Volatile.Read(ref _handlerRuns);

        protected override void Configure(GatewayFactory gateway) => gateway
            .WithTenant(Tenant, LicenseModel.ConcurrentSessions, 50)
            .WithServices(services => services.PostConfigure<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme, options =>
                options.Events = new JwtBearerEvents
                {
                    OnMessageReceived = _ =>
                    {
                        Interlocked.Increment(ref _handlerRuns);
                        return Task.CompletedTask;
                    },
                }));
    }

    [Fact]
    public async Task A_token_is_validated_once_then_served_from_the_cache()
    {
        var token = TestTokens.User(Tenant, "alice");
        var before = fixture.HandlerRuns;

        var first = await Echo.ReadAsync(await fixture.Client.SendAsync(Get("/api/cached", token)));
        for (var i = 0; i < 5; i++)
        {
            var again = await Echo.ReadAsync(await fixture.Client.SendAsync(Get("/api/cached", token)));
            Assert.Equal(first.Header("X-Licensing-Session"), again.Header("X-Licensing-Session"));
        }

        Assert.Equal(before + 1, fixture.HandlerRuns);
    }

    [Fact]
    public async Task A_cached_token_on_another_device_is_another_session()
    {
        var token = TestTokens.User(Tenant, "bob");
        var laptop = await Echo.ReadAsync(await fixture.Client.SendAsync(Get("/api/devices", token, device: "laptop")));
        var tablet = await Echo.ReadAsync(await fixture.Client.SendAsync(Get("/api/devices", token, device: "tablet")));
        var laptopAgain = await Echo.ReadAsync(await fixture.Client.SendAsync(Get("/api/devices", token, device: "laptop")));

        Assert.NotEqual(laptop.Header("X-Licensing-Session"), tablet.Header("X-Licensing-Session"));
        Assert.Equal(laptop.Header("X-Licensing-Session"), laptopAgain.Header("X-Licensing-Session"));
    }

    [Fact]
    public async Task A_token_past_its_expiry_is_never_served_from_the_cache()
    {
        // Expired 10 s ago: JwtBearer still accepts it (30 s clock skew), but the cache never keeps it.
        var token = TestTokens.Create(
            new Dictionary<string, object> { ["tid"] = Tenant, ["sub"] = "carol" },
            notBefore: DateTime.UtcNow.AddMinutes(-5), expires: DateTime.UtcNow.AddSeconds(-10));
        var before = fixture.HandlerRuns;

        await (await fixture.Client.SendAsync(Get("/api/expiring", token))).AssertForwardedAsync();
        await (await fixture.Client.SendAsync(Get("/api/expiring", token))).AssertForwardedAsync();

        Assert.Equal(before + 2, fixture.HandlerRuns);
    }

    [Fact]
    public async Task A_token_differing_from_a_cached_one_is_validated_and_refused()
    {
        var token = TestTokens.User(Tenant, "dave");
        await (await fixture.Client.SendAsync(Get("/api/tampered", token))).AssertForwardedAsync();
        var tampered = token[..^2] + (token[^2] == 'A' ? "BB" : "AA");
        var before = fixture.HandlerRuns;

        var response = await fixture.Client.SendAsync(Get("/api/tampered", tampered));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal(before + 1, fixture.HandlerRuns);
    }

    [Fact]
    public async Task Off_routes_never_run_the_bearer_handler()
    {
        var before = fixture.HandlerRuns;

        await (await fixture.Client.SendAsync(Get("/open/anything", "not-a-jwt"))).AssertForwardedAsync();
        await (await fixture.Client.SendAsync(Get("/open/anything", TestTokens.User(Tenant, "erin")))).AssertForwardedAsync();

        Assert.Equal(before, fixture.HandlerRuns);
    }

    [Fact]
    public async Task Management_routes_authenticate_every_request()
    {
        var token = TestTokens.User(Tenant, "frank");
        await (await fixture.Client.SendAsync(Get("/api/me", token))).AssertForwardedAsync();
        var before = fixture.HandlerRuns;

        var anonymous = await fixture.Client.SendAsync(Get("/_licensing/v1/me/sessions"));
        var signedIn = await fixture.Client.SendAsync(Get("/_licensing/v1/me/sessions", token));

        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal(HttpStatusCode.OK, signedIn.StatusCode);
        Assert.Equal(before + 2, fixture.HandlerRuns);
    }
}
