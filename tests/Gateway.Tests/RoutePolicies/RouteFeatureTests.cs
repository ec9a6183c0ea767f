using System.Diagnostics;
using System.Net;
using Gateway.Licensing.Rules;
using Gateway.Tests.Support;
using static Gateway.Tests.Support.GatewayRequests;

namespace Gateway.Tests.RoutePolicies;

/// <summary>
/// A YARP route's Timeout/TimeoutPolicy, RateLimiterPolicy, CorsPolicy, OutputCachePolicy and
/// AuthorizationPolicy take effect through the real gateway, with the named policies declared in
/// <c>RoutePolicies</c>.
/// </summary>
public sealed class RouteFeatureTests(RouteFeatureTests.Fixture fixture) : IClassFixture<RouteFeatureTests.Fixture>
{
    private const string Tenant = "features";
    private const string Origin = "https://erp.example.com";

    public sealed class Fixture : GatewayFixture
    {
        protected override void Configure(GatewayFactory gateway)
        {
            gateway
                .WithTenant(Tenant, LicenseModel.ConcurrentSessions, 50)
                .With("RoutePolicies:RateLimiters:tight:Kind", "FixedWindow")
                .With("RoutePolicies:RateLimiters:tight:PermitLimit", "2")
                .With("RoutePolicies:RateLimiters:tight:Window", "00:10:00")
                .With("RoutePolicies:RateLimiters:tight:PartitionBy", "None")
                .With("RoutePolicies:RateLimiters:per-client:PermitLimit", "1")
                .With("RoutePolicies:RateLimiters:per-client:Window", "00:10:00")
                .With("RoutePolicies:Timeouts:short:Timeout", "00:00:01")
                .With("RoutePolicies:Cors:erp-web:Origins:0", Origin)
                .With("RoutePolicies:Cors:erp-web:Methods:0", "GET")
                .With("RoutePolicies:Cors:erp-web:Headers:0", "Authorization")
                .With("RoutePolicies:OutputCache:public:Duration", "00:01:00");
            Route(gateway, "limited", licensing: "Off", ("RateLimiterPolicy", "tight"));
            Route(gateway, "limited-enforced", licensing: null, ("RateLimiterPolicy", "tight"));
            Route(gateway, "per-client", licensing: "Off", ("RateLimiterPolicy", "per-client"));
            Route(gateway, "slow", licensing: "Off", ("Timeout", "00:00:01"));
            Route(gateway, "slow-policy", licensing: null, ("TimeoutPolicy", "short"));
            Route(gateway, "cors", licensing: "Off", ("CorsPolicy", "erp-web"));
            Route(gateway, "cached", licensing: "Off", ("OutputCachePolicy", "public"));
            Route(gateway, "authorized", licensing: "Off", ("AuthorizationPolicy", "Default"));
        }

        /// <summary><c>/{id}/{**rest}</c> to the backend's <c>/{rest}</c>, with one route feature set.</summary>
        private static void Route(GatewayFactory gateway, string id, string? licensing, (string Key, string Value) feature)
        {
            var prefix = $"ReverseProxy:Routes:{id}:";
            gateway.With(prefix + "ClusterId", "backend")
                .With(prefix + "Match:Path", $"/{id}/{{**rest}}")
                .With(prefix + "Transforms:0:PathRemovePrefix", "/" + id)
                .With(prefix + feature.Key, feature.Value);
            if (licensing is not null) gateway.With(prefix + "Metadata:Licensing", licensing);
        }
    }

    [Fact]
    public async Task A_route_timeout_answers_504_backend_timeout()
    {
        var watch = Stopwatch.StartNew();
        using var response = await fixture.Client.SendAsync(Get("/slow/delay/30000"));

        await response.AssertProblemAsync(HttpStatusCode.GatewayTimeout, "backend-timeout");
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(20), $"took {watch.Elapsed}");
    }

    [Fact]
    public async Task A_named_timeout_policy_from_configuration_answers_504_backend_timeout_on_an_enforced_route()
    {
        using var response = await fixture.Client.SendAsync(Get("/slow-policy/delay/30000", TestTokens.User(Tenant, "tim")));

        await response.AssertProblemAsync(HttpStatusCode.GatewayTimeout, "backend-timeout");
    }

    [Fact]
    public async Task A_route_within_its_timeout_is_answered_by_the_backend()
    {
        using var response = await fixture.Client.SendAsync(Get("/slow/delay/10"));

        await response.AssertForwardedAsync();
    }

    [Fact]
    public async Task A_configured_rate_limit_answers_429_rate_limited_not_seats_exhausted()
    {
        for (var i = 0; i < 2; i++) await (await fixture.Client.SendAsync(Get("/limited/x"))).AssertForwardedAsync();

        using var refused = await fixture.Client.SendAsync(Get("/limited/x"));

        var problem = await refused.AssertProblemAsync(HttpStatusCode.TooManyRequests, "rate-limited");
        Assert.NotEqual("seats-exhausted", problem.GetProperty("code").GetString());
        Assert.True(int.Parse(refused.Header("Retry-After")!) >= 1);
        // The limiter refuses before licensing: no session is opened for an enforced request it refuses.
        var before = (await fixture.Gateway.Store.GetTenantAsync(Tenant))!.ActiveSessions;
        using var enforced = await fixture.Client.SendAsync(Get("/limited-enforced/x", TestTokens.User(Tenant, "rita")));
        await enforced.AssertProblemAsync(HttpStatusCode.TooManyRequests, "rate-limited");
        Assert.Equal(before, (await fixture.Gateway.Store.GetTenantAsync(Tenant))!.ActiveSessions);
    }

    [Fact]
    public async Task A_rate_limit_by_client_address_keeps_clients_apart()
    {
        await (await fixture.Client.SendAsync(Get("/per-client/x").WithHeader("X-Test-Remote-Ip", "192.0.2.1"))).AssertForwardedAsync();
        await (await fixture.Client.SendAsync(Get("/per-client/x").WithHeader("X-Test-Remote-Ip", "192.0.2.2"))).AssertForwardedAsync();

        using var again = await fixture.Client.SendAsync(Get("/per-client/x").WithHeader("X-Test-Remote-Ip", "192.0.2.1"));

        await again.AssertProblemAsync(HttpStatusCode.TooManyRequests, "rate-limited");
    }

    [Fact]
    public async Task A_cors_policy_answers_the_preflight_of_an_allowed_origin_only()
    {
        using var allowed = await fixture.Client.SendAsync(Preflight(Origin));
        Assert.Equal(HttpStatusCode.NoContent, allowed.StatusCode);
        Assert.Equal(Origin, allowed.Header("Access-Control-Allow-Origin"));

        using var other = await fixture.Client.SendAsync(Preflight("https://evil.example.com"));
        Assert.Null(other.Header("Access-Control-Allow-Origin"));

        using var simple = await fixture.Client.SendAsync(Get("/cors/x").WithHeader("Origin", Origin));
        await simple.AssertForwardedAsync();
        Assert.Equal(Origin, simple.Header("Access-Control-Allow-Origin"));
    }

    private static HttpRequestMessage Preflight(string origin) =>
        new HttpRequestMessage(HttpMethod.Options, "/cors/x")
            .WithHeader("Origin", origin)
            .WithHeader("Access-Control-Request-Method", "GET")
            .WithHeader("Access-Control-Request-Headers", "authorization");

    [Fact]
    public async Task An_output_cache_policy_serves_the_second_anonymous_request_from_the_cache()
    {
        var path = $"/cached/page-{Guid.NewGuid():N}";
        using var first = await fixture.Client.SendAsync(Get(path));
        await first.AssertForwardedAsync();
        using var second = await fixture.Client.SendAsync(Get(path));
        await second.AssertForwardedAsync();

        Assert.Single(fixture.Backend.Received, r => r.Path == path["/cached".Length..]);
        Assert.Equal(await first.Content.ReadAsStringAsync(), await second.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task An_authorization_policy_requires_a_valid_token_even_on_an_unlicensed_route()
    {
        using var anonymous = await fixture.Client.SendAsync(Get("/authorized/x"));
        await anonymous.AssertProblemAsync(HttpStatusCode.Unauthorized, "token-missing");
        Assert.Contains(anonymous.Headers.WwwAuthenticate, h => h.Scheme == "Bearer");

        using var invalid = await fixture.Client.SendAsync(Get("/authorized/x", TestTokens.WrongKey(Tenant, "ann")));
        await invalid.AssertProblemAsync(HttpStatusCode.Unauthorized, "token-invalid");

        using var signedIn = await fixture.Client.SendAsync(Get("/authorized/x", TestTokens.User(Tenant, "ann")));
        await signedIn.AssertForwardedAsync();
    }
}
