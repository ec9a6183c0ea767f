using Gateway.Licensing.Identity;

namespace Gateway.Licensing.Tests.Identity;

public sealed class SessionIdentityTests
{
    [Fact]
    public void Same_four_values_give_the_same_opaque_url_safe_id()
    {
        var a = new SessionIdentity("acme", "alice", ClientKind.Web, "browser-1").ComputeSessionId();
        var b = new SessionIdentity("acme", "alice", ClientKind.Web, "browser-1").ComputeSessionId();
        Assert.Equal(a, b);
        Assert.Equal(SessionIdentity.SessionIdLength, a.Length);
        Assert.True(SessionIdentity.IsWellFormedSessionId(a));
        Assert.DoesNotContain("alice", a);
    }

    [Fact]
    public void Any_differing_value_gives_another_id()
    {
        var baseline = new SessionIdentity("acme", "alice", ClientKind.Web, "d");
        string[] ids =
        [
            baseline.ComputeSessionId(),
            (baseline with { Tenant = "acme2" }).ComputeSessionId(),
            (baseline with { User = "alice2" }).ComputeSessionId(),
            (baseline with { ClientKind = ClientKind.Desktop }).ComputeSessionId(),
            (baseline with { Device = "d2" }).ComputeSessionId(),
            // The separators keep "ab" + "c" apart from "a" + "bc".
            new SessionIdentity("acme", "ab", ClientKind.Web, "c").ComputeSessionId(),
            new SessionIdentity("acme", "a", ClientKind.Web, "bc").ComputeSessionId(),
        ];
        Assert.Equal(ids.Length, ids.Distinct().Count());
    }

    [Fact]
    public void Longest_valid_identity_hashes_without_overflow()
    {
        var id = new SessionIdentity(new string('t', 64), new string('u', 128), ClientKind.Service, new string('d', 128));
        Assert.True(SessionIdentity.IsWellFormedSessionId(id.ComputeSessionId()));
    }

    [Theory]
    [InlineData("")]
    [InlineData("short")]
    [InlineData("aaaaaaaaaaaaaaaaaaaaa/")]
    [InlineData("aaaaaaaaaaaaaaaaaaaaaaa")]
    public void Malformed_session_ids_are_recognised(string value) =>
        Assert.False(SessionIdentity.IsWellFormedSessionId(value));

    [Theory]
    [InlineData("desktop", ClientKind.Desktop)]
    [InlineData("WEB", ClientKind.Web)]
    [InlineData("mobile", ClientKind.Mobile)]
    public void Declared_client_kinds_parse(string value, ClientKind expected)
    {
        Assert.True(ClientKindNames.TryParseDeclared(value, out var kind));
        Assert.Equal(expected, kind);
    }

    [Theory]
    [InlineData("service")]
    [InlineData("tablet")]
    [InlineData("")]
    public void Service_and_unknown_kinds_cannot_be_declared(string value) =>
        Assert.False(ClientKindNames.TryParseDeclared(value, out _));
}
