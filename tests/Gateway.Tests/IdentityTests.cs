using System.Net;
using Gateway.Licensing.Identity;
using Gateway.Licensing.Rules;
using Gateway.Tests.Support;
using static Gateway.Tests.Support.GatewayRequests;

namespace Gateway.Tests;

/// <summary>How a request's session identity is read, and what malformed or incomplete identities get.</summary>
public sealed class IdentityTests(IdentityTests.Fixture fixture) : IClassFixture<IdentityTests.Fixture>
{
    private const string Tenant = "ident";

    public sealed class Fixture : GatewayFixture
    {
        protected override void Configure(GatewayFactory gateway) => gateway.WithTenant(Tenant, LicenseModel.ConcurrentSessions, 100);
    }

    private HttpClient Client => fixture.Client;

    [Fact]
    public async Task Unknown_client_kind_is_400_invalid_identity()
    {
        var response = await Client.SendAsync(Get("/api/x", TestTokens.User(Tenant, "alice")).WithHeader("X-Client-Kind", "toaster"));
        await response.AssertProblemAsync(HttpStatusCode.BadRequest, "invalid-identity");
    }

    [Fact]
    public async Task Overlong_device_header_is_400_invalid_identity()
    {
        var response = await Client.SendAsync(Get("/api/x", TestTokens.User(Tenant, "alice"), device: new string('d', 129)));
        await response.AssertProblemAsync(HttpStatusCode.BadRequest, "invalid-identity");
    }

    [Fact]
    public async Task Malformed_tenant_claim_is_400_invalid_identity()
    {
        var response = await Client.SendAsync(Get("/api/x", TestTokens.User("not a tenant!", "alice")));
        await response.AssertProblemAsync(HttpStatusCode.BadRequest, "invalid-identity");
    }

    [Fact]
    public async Task Malformed_user_claim_is_400_invalid_identity()
    {
        var response = await Client.SendAsync(Get("/api/x", TestTokens.User(Tenant, new string('u', 129))));
        await response.AssertProblemAsync(HttpStatusCode.BadRequest, "invalid-identity");
    }

    [Fact]
    public async Task Token_without_tenant_and_no_default_tenant_is_403_identity_incomplete()
    {
        var response = await Client.SendAsync(Get("/api/x", TestTokens.User(tenant: null, "alice")));
        await response.AssertProblemAsync(HttpStatusCode.Forbidden, "identity-incomplete");
    }

    [Fact]
    public async Task Token_without_user_or_client_id_is_403_identity_incomplete()
    {
        var response = await Client.SendAsync(Get("/api/x", TestTokens.User(Tenant, user: null)));
        await response.AssertProblemAsync(HttpStatusCode.Forbidden, "identity-incomplete");
    }

    [Fact]
    public async Task Service_token_is_a_service_session_whatever_client_kind_it_declares()
    {
        var token = TestTokens.Service(Tenant, "nightly-export");

        var echo = await Echo.ReadAsync(await Client.SendAsync(Get("/api/x", token, device: "host-1").WithHeader("X-Client-Kind", "toaster")));

        var expected = new SessionIdentity(Tenant, "nightly-export", ClientKind.Service, "host-1").ComputeSessionId();
        Assert.Equal(expected, echo.Header("X-Licensing-Session"));
    }

    [Fact]
    public async Task Declared_client_kind_and_device_header_make_the_session()
    {
        var echo = await Echo.ReadAsync(await Client.SendAsync(
            Get("/api/x", TestTokens.User(Tenant, "dora"), device: "phone-7").WithHeader("X-Client-Kind", "mobile")));

        Assert.Equal(new SessionIdentity(Tenant, "dora", ClientKind.Mobile, "phone-7").ComputeSessionId(), echo.Header("X-Licensing-Session"));
    }

    [Fact]
    public async Task A_refreshed_token_keeps_the_same_session()
    {
        var first = await Echo.ReadAsync(await Client.SendAsync(Get("/api/x", TestTokens.User(Tenant, "erin"))));
        var refreshed = TestTokens.User(Tenant, "erin", ("jti", Guid.NewGuid().ToString()));
        var second = await Echo.ReadAsync(await Client.SendAsync(Get("/api/x", refreshed)));

        Assert.Equal(first.Header("X-Licensing-Session"), second.Header("X-Licensing-Session"));
    }

    [Fact]
    public async Task Device_claim_wins_over_the_device_header()
    {
        var token = TestTokens.User(Tenant, "fred", ("did", "laptop-claim"));

        var echo = await Echo.ReadAsync(await Client.SendAsync(Get("/api/x", token, device: "header-device")));

        Assert.Equal(new SessionIdentity(Tenant, "fred", ClientKind.Desktop, "laptop-claim").ComputeSessionId(), echo.Header("X-Licensing-Session"));
    }

    [Fact]
    public async Task Browser_gets_a_device_cookie_and_keeps_its_session_with_it()
    {
        var token = TestTokens.User(Tenant, "gina");

        var first = await Client.SendAsync(Get("/api/x", token, device: null, userAgent: BrowserAgent));
        var firstEcho = await Echo.ReadAsync(first);

        var setCookie = Assert.Single(first.Headers.GetValues("Set-Cookie"), c => c.StartsWith("seat-device=", StringComparison.Ordinal));
        Assert.Contains("httponly", setCookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("secure", setCookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=lax", setCookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("path=/", setCookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("max-age=", setCookie, StringComparison.OrdinalIgnoreCase);
        var cookie = setCookie.Split(';')[0];
        var device = cookie["seat-device=".Length..];
        Assert.Equal(new SessionIdentity(Tenant, "gina", ClientKind.Web, device).ComputeSessionId(), firstEcho.Header("X-Licensing-Session"));

        var second = await Client.SendAsync(Get("/api/x", token, device: null, userAgent: BrowserAgent).WithHeader("Cookie", cookie));
        var secondEcho = await Echo.ReadAsync(second);
        Assert.Equal(firstEcho.Header("X-Licensing-Session"), secondEcho.Header("X-Licensing-Session"));
        Assert.False(second.Headers.Contains("Set-Cookie"));

        // Another browser (no cookie, another User-Agent) is another device, so another session.
        var other = await Echo.ReadAsync(await Client.SendAsync(Get("/api/x", token, device: null, userAgent: BrowserAgent + " Edg/140.0")));
        Assert.NotEqual(firstEcho.Header("X-Licensing-Session"), other.Header("X-Licensing-Session"));
    }

    [Fact]
    public async Task Desktop_client_without_device_gets_no_cookie_and_a_stable_fingerprint()
    {
        var token = TestTokens.User(Tenant, "hank");

        var first = await Client.SendAsync(Get("/api/x", token, device: null));
        var firstEcho = await Echo.ReadAsync(first);
        var second = await Echo.ReadAsync(await Client.SendAsync(Get("/api/x", token, device: null)));
        var otherAgent = await Echo.ReadAsync(await Client.SendAsync(Get("/api/x", token, device: null, userAgent: "OtherClient/1.0")));

        Assert.False(first.Headers.Contains("Set-Cookie"));
        Assert.Equal(firstEcho.Header("X-Licensing-Session"), second.Header("X-Licensing-Session"));
        Assert.NotEqual(firstEcho.Header("X-Licensing-Session"), otherAgent.Header("X-Licensing-Session"));
    }
}

/// <summary><c>Licensing:DefaultTenant</c> serves tokens that carry no tenant (e.g. <c>dotnet user-jwts</c>).</summary>
public sealed class DefaultTenantTests(DefaultTenantTests.Fixture fixture) : IClassFixture<DefaultTenantTests.Fixture>
{
    public sealed class Fixture : GatewayFixture
    {
        protected override void Configure(GatewayFactory gateway) => gateway
            .With("Licensing:DefaultTenant", "dflt")
            .WithTenant("dflt", LicenseModel.ConcurrentSessions, 5);
    }

    [Fact]
    public async Task Token_without_tenant_uses_the_default_tenant()
    {
        var echo = await Echo.ReadAsync(await fixture.Client.SendAsync(Get("/api/x", TestTokens.User(tenant: null, "ivan"))));
        Assert.Equal("dflt", echo.Header("X-Licensing-Tenant"));
    }
}
