using System.Net;
using Gateway.Identity;
using Gateway.Licensing.Identity;
using Gateway.Licensing.Rules;
using Gateway.Tests.Hostile;
using Gateway.Tests.Support;
using static Gateway.Tests.Support.GatewayRequests;

namespace Gateway.Tests.Security;

/// <summary>Requests whose client names a made-up client address, scheme and proxy chain.</summary>
public static class ForwardedHeaders
{
    public const string Tenant = "fwd";
    public const string MadeUpAddress = "10.1.2.3";

    public static HttpRequestMessage Spoofed(string path, string? token = null, string madeUp = MadeUpAddress) =>
        Get(path, token, device: null)
            .WithHeader("X-Forwarded-For", madeUp)
            .WithHeader("X-Forwarded-Proto", "https")
            .WithHeader("Forwarded", $"for={madeUp};proto=https;host=evil.test");

    public static string FingerprintSession(string user, string address) =>
        new SessionIdentity(Tenant, user, ClientKind.Desktop, ClientFingerprint.Compute(DesktopAgent, IPAddress.Parse(address))).ComputeSessionId();
}

/// <summary>
/// No <c>ForwardedHeaders:KnownProxies</c>/<c>KnownNetworks</c> configured (the default): nobody's
/// <c>X-Forwarded-*</c> or <c>Forwarded</c> is believed. The real gateway on Kestrel, a real loopback
/// connection: the client address is the connection's, the backend gets the gateway's own view, and a
/// made-up address does not make a new fingerprint device.
/// </summary>
public sealed class UntrustedForwardedHeadersTests(UntrustedForwardedHeadersTests.Fixture fixture) : IClassFixture<UntrustedForwardedHeadersTests.Fixture>
{
    public sealed class Fixture : KestrelGatewayFixture
    {
        protected override void ConfigureGateway(GatewayFactory gateway) =>
            gateway.WithTenant(ForwardedHeaders.Tenant, LicenseModel.ConcurrentSessions, 50);
    }

    [Theory]
    [InlineData("/open/fwd")]
    [InlineData("/api/fwd")]
    public async Task The_backend_gets_the_connection_address_and_scheme_never_the_clients_claim(string path)
    {
        var token = TestTokens.User(ForwardedHeaders.Tenant, "alice");
        var echo = await Echo.ReadAsync(await fixture.Http.SendAsync(ForwardedHeaders.Spoofed(path, token).WithHeader("X-Device-Id", "d1")));

        Assert.Equal("127.0.0.1", echo.Header("X-Forwarded-For"));
        Assert.Equal("http", echo.Header("X-Forwarded-Proto"));
        Assert.Null(echo.Header("Forwarded"));
        Assert.DoesNotContain(echo.HeaderNames, name => echo.Header(name)!.Contains(ForwardedHeaders.MadeUpAddress, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_made_up_address_does_not_make_a_new_fingerprint_device()
    {
        var token = TestTokens.User(ForwardedHeaders.Tenant, "bob");
        var sessions = new List<string?>();
        foreach (var madeUp in new[] { "10.1.2.3", "10.1.2.4", "203.0.113.9" })
            sessions.Add((await Echo.ReadAsync(await fixture.Http.SendAsync(ForwardedHeaders.Spoofed("/api/fwd", token, madeUp)))).Header("X-Licensing-Session"));
        sessions.Add((await Echo.ReadAsync(await fixture.Http.SendAsync(Get("/api/fwd", token, device: null)))).Header("X-Licensing-Session"));

        Assert.All(sessions, s => Assert.Equal(ForwardedHeaders.FingerprintSession("bob", "127.0.0.1"), s));
    }
}

/// <summary>
/// The gateway's own proxy (loopback) is trusted: its <c>X-Forwarded-For</c> and <c>X-Forwarded-Proto</c>
/// become the client's address and scheme, and that view (not the raw chain) is what the backend gets.
/// </summary>
public sealed class TrustedForwardedHeadersTests(TrustedForwardedHeadersTests.Fixture fixture) : IClassFixture<TrustedForwardedHeadersTests.Fixture>
{
    public sealed class Fixture : KestrelGatewayFixture
    {
        protected override void ConfigureGateway(GatewayFactory gateway) => gateway
            .WithTenant(ForwardedHeaders.Tenant, LicenseModel.ConcurrentSessions, 50)
            .With("ForwardedHeaders:KnownProxies:0", "127.0.0.1");
    }

    [Fact]
    public async Task A_trusted_proxy_supplies_the_client_address_and_scheme_the_backend_receives()
    {
        var token = TestTokens.User(ForwardedHeaders.Tenant, "carol");
        // The client made up the first entry; the trusted proxy appended the address it saw.
        var request = Get("/api/fwd", token, device: null)
            .WithHeader("X-Forwarded-For", "10.9.9.9, 203.0.113.7")
            .WithHeader("X-Forwarded-Proto", "https");

        var echo = await Echo.ReadAsync(await fixture.Http.SendAsync(request));

        Assert.Equal("203.0.113.7", echo.Header("X-Forwarded-For"));
        Assert.Equal("https", echo.Header("X-Forwarded-Proto"));
        Assert.Equal(ForwardedHeaders.FingerprintSession("carol", "203.0.113.7"), echo.Header("X-Licensing-Session"));
    }
}
