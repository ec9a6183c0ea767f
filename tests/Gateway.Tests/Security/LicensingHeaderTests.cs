using Gateway.Licensing.Identity;
using Gateway.Licensing.Rules;
using Gateway.Tests.Hostile;
using Gateway.Tests.Infrastructure;
using Gateway.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Tests.Security;

/// <summary>
/// Issue 5, item 6: no <c>X-Licensing-*</c> header a client sends ever reaches the backend —
/// in any letter case, repeated, empty, spelled with underscores, smuggled by a bare LF — on Enforce,
/// Off and Release routes; on Enforce (and on Release with an identity) the backend gets exactly the
/// gateway's own <c>X-Licensing-Session</c> and <c>X-Licensing-Tenant</c>. Checked on what the backend
/// recorded (<see cref="LoopbackBackend.Received"/>), over real Kestrel.
/// </summary>
public sealed class LicensingHeaderTests(LicensingHeaderTests.Fixture fixture) : IClassFixture<LicensingHeaderTests.Fixture>
{
    private const string Tenant = "hdr";

    public sealed class Fixture : KestrelGatewayFixture
    {
        protected override void ConfigureGateway(GatewayFactory gateway) => gateway.WithTenant(Tenant, LicenseModel.ConcurrentSessions, 100);
    }

    /// <summary>Forged headers: names in every case and spelling, repeated, empty, with a real-looking session id of another tenant.</summary>
    private static readonly (string Name, string Value)[] Forged =
    [
        ("X-Licensing-Session", "AAAAAAAAAAAAAAAAAAAAAA"),
        ("X-Licensing-Session", "forged-twice"),
        ("x-licensing-session", "lower"),
        ("X-LICENSING-SESSION", "upper"),
        ("X-Licensing-Tenant", "victim"),
        ("x-LiCeNsInG-tEnAnT", "victim-mixed"),
        ("X-Licensing-Tenant", ""),
        ("X-Licensing-User", "root"),
        ("X-Licensing-Seats", "1000000"),
        ("X-Licensing-", "bare-prefix"),
        ("X_Licensing_Session", "underscores"),
        ("x_licensing_tenant", "underscores-lower"),
        ("X-Licensing_Tenant", "mixed-separators"),
        ("X-Licensing-Session-Override", "longer-name"),
        ("X-Note", "kept\nX-Licensing-Tenant: smuggled-by-a-bare-LF"),
    ];

    private static RawRequest WithForged(RawRequest request)
    {
        foreach (var (name, value) in Forged) request.Header(name, value);
        return request;
    }

    private async Task<ReceivedRequest> SendAndReceiveAsync(RawRequest request, string path)
    {
        var response = await fixture.SendAsync(request);
        Assert.True(response.Status == 200, $"{request}: {response}");
        return Assert.Single(fixture.Backend.Received, r => r.Path == path);
    }

    private static string[] LicensingHeaders(ReceivedRequest received) =>
        received.Headers.Keys.Where(k => k.Replace('_', '-').StartsWith("X-Licensing-", StringComparison.OrdinalIgnoreCase)).Order(StringComparer.OrdinalIgnoreCase).ToArray();

    [Fact]
    public async Task Enforce_route_forwards_only_the_gateways_own_session_and_tenant()
    {
        var path = "/api/forged/" + Guid.NewGuid().ToString("N");
        var request = WithForged(new RawRequest("GET", path).Bearer(TestTokens.User(Tenant, "alice")).Header("X-Device-Id", "dev-1"));

        var received = await SendAndReceiveAsync(request, path);

        Assert.Equal(["X-Licensing-Session", "X-Licensing-Tenant"], LicensingHeaders(received), StringComparer.OrdinalIgnoreCase);
        Assert.Equal(new SessionIdentity(Tenant, "alice", ClientKind.Desktop, "dev-1").ComputeSessionId(), received.Header("X-Licensing-Session"));
        Assert.Equal(Tenant, received.Header("X-Licensing-Tenant"));
        Assert.Equal("kept", received.Header("X-Note"));
    }

    [Fact]
    public async Task Off_route_forwards_no_licensing_header_at_all()
    {
        var path = "/open/forged/" + Guid.NewGuid().ToString("N");

        var received = await SendAndReceiveAsync(WithForged(new RawRequest("GET", path).Bearer(TestTokens.User(Tenant, "alice"))), path);

        Assert.Empty(LicensingHeaders(received));
    }

    [Fact]
    public async Task Release_route_without_a_valid_token_forwards_no_licensing_header()
    {
        var id = Guid.NewGuid().ToString("N");

        var received = await SendAndReceiveAsync(WithForged(new RawRequest("GET", "/logout/forged/" + id).Bearer("not-a-jwt")), "/forged/" + id);

        Assert.Empty(LicensingHeaders(received));
    }

    [Fact]
    public async Task Release_route_with_an_identity_forwards_only_the_gateways_own_headers_and_ends_that_session()
    {
        var token = TestTokens.User(Tenant, "bob");
        var admitted = await fixture.SendAsync(new RawRequest("GET", "/api/before-logout").Bearer(token).Header("X-Device-Id", "dev-2"));
        Assert.Equal(200, admitted.Status);
        var id = Guid.NewGuid().ToString("N");
        var request = WithForged(new RawRequest("GET", "/logout/forged/" + id).Bearer(token).Header("X-Device-Id", "dev-2"));

        var received = await SendAndReceiveAsync(request, "/forged/" + id);

        var session = new SessionIdentity(Tenant, "bob", ClientKind.Desktop, "dev-2").ComputeSessionId();
        Assert.Equal(["X-Licensing-Session", "X-Licensing-Tenant"], LicensingHeaders(received), StringComparer.OrdinalIgnoreCase);
        Assert.Equal(session, received.Header("X-Licensing-Session"));
        Assert.Equal(Tenant, received.Header("X-Licensing-Tenant"));
        Assert.DoesNotContain((await fixture.Gateway.Services.GetRequiredService<Gateway.Licensing.Store.LicenseQueries>()
            .ListSessionsAsync(Tenant, "bob", null, 10)).Sessions, s => s.SessionId == session);
    }

    [Fact]
    public async Task Refused_requests_reach_nothing_whatever_licensing_headers_they_carry()
    {
        var before = fixture.Backend.Received.Count;
        foreach (var token in new[] { "not-a-jwt", TestTokens.Expired(Tenant, "carol"), TestTokens.User("no-plan", "carol") })
        {
            var response = await fixture.SendAsync(WithForged(new RawRequest("GET", "/api/refused").Bearer(token).Header("X-Device-Id", "d")));
            Assert.InRange(response.Status, 400, 499);
        }
        Assert.Equal(before, fixture.Backend.Received.Count);
    }
}
