using System.Net;
using Gateway.Identity;
using Gateway.Licensing.Identity;
using Gateway.Licensing.Rules;
using Gateway.Tests.Support;
using static Gateway.Tests.Support.GatewayRequests;

namespace Gateway.Tests;

/// <summary>
/// The <c>fingerprint</c> device uses the client address, taking <c>X-Forwarded-For</c> only
/// from <c>ForwardedHeaders:KnownProxies</c>/<c>KnownNetworks</c>.
/// </summary>
public sealed class ClientAddressTests(ClientAddressTests.Fixture fixture) : IClassFixture<ClientAddressTests.Fixture>
{
    private const string Tenant = "addr";
    private const string TrustedProxy = "10.0.0.1";

    public sealed class Fixture : GatewayFixture
    {
        protected override void Configure(GatewayFactory gateway) => gateway
            .WithTenant(Tenant, LicenseModel.ConcurrentSessions, 50)
            .With("ForwardedHeaders:KnownProxies:0", TrustedProxy)
            .With("ForwardedHeaders:KnownNetworks:0", "172.16.0.0/12");

    }

    private async Task<string?> SessionAsync(string user, string peer, string? forwardedFor)
    {
        var request = Get("/api/x", TestTokens.User(Tenant, user), device: null).WithHeader("X-Test-Remote-Ip", peer);
        if (forwardedFor is not null) request.WithHeader("X-Forwarded-For", forwardedFor);
        return (await Echo.ReadAsync(await fixture.Client.SendAsync(request))).Header("X-Licensing-Session");
    }

    private static string FingerprintSession(string user, string address) =>
        new SessionIdentity(Tenant, user, ClientKind.Desktop, ClientFingerprint.Compute(DesktopAgent, IPAddress.Parse(address))).ComputeSessionId();

    [Theory]
    [InlineData(TrustedProxy)]
    [InlineData("172.20.1.2")]
    public async Task Trusted_proxy_supplies_the_client_address(string proxy)
    {
        Assert.Equal(FingerprintSession("alice", "203.0.113.7"), await SessionAsync("alice", proxy, "203.0.113.7"));
        Assert.Equal(FingerprintSession("alice", "198.51.100.9"), await SessionAsync("alice", proxy, "198.51.100.9"));
    }

    [Theory]
    [InlineData("10.0.0.2")]
    [InlineData("127.0.0.1")]
    [InlineData("::1")]
    public async Task Untrusted_peer_cannot_choose_its_address(string peer)
    {
        Assert.Equal(FingerprintSession("bob", peer), await SessionAsync("bob", peer, "203.0.113.7"));
        Assert.Equal(FingerprintSession("bob", peer), await SessionAsync("bob", peer, forwardedFor: null));
    }
}
