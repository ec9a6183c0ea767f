using System.Security.Claims;
using Gateway.Authentication;
using Gateway.Identity;
using Gateway.Licensing.Identity;
using Gateway.Licensing.Options;
using Gateway.Licensing.Tests.Support;
using Microsoft.AspNetCore.Http;

namespace Gateway.Tests.Identity;

/// <summary>
/// A cached token's principal is shared by all its requests, and the resolver keeps what it derives
/// from it: the result must always be what a fresh principal with the same claims gives.
/// </summary>
public sealed class IdentityResolverTests
{
    private readonly StaticOptionsMonitor<LicensingOptions> _options = new(new LicensingOptions());

    private static ClaimsIdentity Claims(params (string Type, string Value)[] claims) =>
        new(claims.Select(c => new Claim(c.Type, c.Value)), "test");

    private static HttpContext Request(string? device, string? kind = null)
    {
        var context = new DefaultHttpContext();
        if (device is not null) context.Request.Headers["X-Device-Id"] = device;
        if (kind is not null) context.Request.Headers[IdentityResolver.ClientKindHeader] = kind;
        context.Request.Headers.UserAgent = "ErpDesktop/12.0";
        return context;
    }

    [Fact]
    public void A_shared_principal_resolves_like_a_fresh_one_whatever_the_device_and_kind()
    {
        var resolver = new IdentityResolver(_options);
        var claims = Claims(("tid", "acme"), ("sub", "alice"));
        var shared = new SharedPrincipal(claims);

        foreach (var (device, kind) in new[] { ("d1", (string?)null), ("d2", "web"), ("d1", null), ("d1", "mobile"), ("d1", null) })
        {
            var fromShared = resolver.Resolve(Request(device, kind), shared);
            var fromFresh = resolver.Resolve(Request(device, kind), new ClaimsPrincipal(claims));

            Assert.True(fromShared.Succeeded);
            Assert.Equal(fromFresh, fromShared);
            Assert.Equal(device, fromShared.Identity.Device);
            Assert.Equal(fromShared.Identity.ComputeSessionId(), fromShared.SessionId);
        }
    }

    [Fact]
    public void A_refused_token_stays_refused_with_the_same_problem()
    {
        var resolver = new IdentityResolver(_options);
        var shared = new SharedPrincipal(Claims(("tid", "not a tenant!"), ("sub", "alice")));

        var first = resolver.Resolve(Request("d1"), shared);
        var second = resolver.Resolve(Request("d2"), shared);

        Assert.Equal(IdentityProblem.Invalid, first.Problem);
        Assert.Equal(first, second);
    }

    [Fact]
    public void Request_values_are_read_on_every_request_even_for_a_shared_principal()
    {
        var resolver = new IdentityResolver(_options);
        var shared = new SharedPrincipal(Claims(("tid", "acme"), ("sub", "alice")));
        Assert.True(resolver.Resolve(Request("d1"), shared).Succeeded);

        Assert.Equal(IdentityProblem.Invalid, resolver.Resolve(Request("d1", "toaster"), shared).Problem);
        Assert.Equal(IdentityProblem.Invalid, resolver.Resolve(Request(new string('d', 129)), shared).Problem);
    }

    [Fact]
    public void A_device_claim_of_a_shared_principal_is_used()
    {
        var resolver = new IdentityResolver(_options);
        var shared = new SharedPrincipal(Claims(("tid", "acme"), ("sub", "alice"), ("did", "from-claim")));

        var resolution = resolver.Resolve(Request("from-header"), shared);

        // claim:did comes before header:X-Device-Id in the default device sources.
        Assert.Equal("from-claim", resolution.Identity.Device);
    }

    [Fact]
    public void A_configuration_change_is_applied_to_a_shared_principal()
    {
        var resolver = new IdentityResolver(_options);
        var shared = new SharedPrincipal(Claims(("sub", "alice")));
        Assert.Equal(IdentityProblem.Incomplete, resolver.Resolve(Request("d1"), shared).Problem);

        _options.CurrentValue = new LicensingOptions { DefaultTenant = "acme" };

        var resolution = resolver.Resolve(Request("d1"), shared);
        Assert.True(resolution.Succeeded);
        Assert.Equal(new SessionIdentity("acme", "alice", ClientKind.Desktop, "d1"), resolution.Identity);
    }
}
