using System.Net;
using Gateway.Licensing.Rules;
using Gateway.Tests.Support;
using static Gateway.Tests.Support.GatewayRequests;

namespace Gateway.Tests;

/// <summary>Every token the gateway cannot trust gets 401 with a bearer challenge, and nothing is forwarded.</summary>
public sealed class AuthenticationTests(AuthenticationTests.Fixture fixture) : IClassFixture<AuthenticationTests.Fixture>
{
    private const string Tenant = "auth";

    public sealed class Fixture : GatewayFixture
    {
        protected override void Configure(GatewayFactory gateway) => gateway.WithTenant(Tenant, LicenseModel.ConcurrentSessions, 50);
    }

    public static TheoryData<string, string?> RefusedTokens => new()
    {
        { "no token", null },
        { "not a JWT", "not-a-jwt" },
        { "unsigned (alg: none)", TestTokens.Unsigned(Tenant, "alice") },
        { "expired beyond the 30 s clock skew", TestTokens.Expired(Tenant, "alice") },
        { "not yet valid", TestTokens.NotYetValid(Tenant, "alice") },
        { "without expiry", TestTokens.WithoutExpiry(Tenant, "alice") },
        { "wrong issuer", TestTokens.WrongIssuer(Tenant, "alice") },
        { "wrong audience", TestTokens.WrongAudience(Tenant, "alice") },
        { "signed with another key", TestTokens.WrongKey(Tenant, "alice") },
        { "payload tampered with", TestTokens.Tampered(Tenant, "alice") },
        { "a critical JWS extension (crit) the gateway does not understand", TestTokens.CriticalExtension(Tenant, "alice") },
    };

    [Theory]
    [MemberData(nameof(RefusedTokens))]
    public async Task Untrusted_token_gets_401_bearer_challenge_and_is_not_forwarded(string kind, string? token)
    {
        var path = $"/api/auth/{Guid.NewGuid():N}";

        var response = await fixture.Client.SendAsync(Get(path, token));

        Assert.True(response.StatusCode == HttpStatusCode.Unauthorized, $"{kind}: expected 401, got {(int)response.StatusCode}");
        Assert.Contains(response.Headers.WwwAuthenticate, h => h.Scheme == "Bearer");
        Assert.DoesNotContain(fixture.Backend.Received, r => r.Path == path);
    }

    [Fact]
    public async Task Valid_token_is_forwarded()
    {
        var response = await fixture.Client.SendAsync(Get("/api/auth/ok", TestTokens.User(Tenant, "bob")));
        await response.AssertForwardedAsync();
    }

    [Fact]
    public async Task Token_expired_within_the_clock_skew_is_still_accepted()
    {
        var token = TestTokens.Create(
            new Dictionary<string, object> { ["tid"] = Tenant, ["sub"] = "carol" },
            notBefore: DateTime.UtcNow.AddMinutes(-5), expires: DateTime.UtcNow.AddSeconds(-10));

        var response = await fixture.Client.SendAsync(Get("/api/auth/skew", token));

        await response.AssertForwardedAsync();
    }
}
