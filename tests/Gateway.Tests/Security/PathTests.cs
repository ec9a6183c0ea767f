using Gateway.Licensing.Rules;
using Gateway.Tests.Hostile;
using Gateway.Tests.Support;

namespace Gateway.Tests.Security;

/// <summary>
/// Paths a backend could read differently from the gateway are refused 400 <c>invalid-path</c> before
/// routing, so an <c>Off</c> route (here <c>/open/{**rest}</c>) cannot be used to reach an enforced one
/// (<c>/api/{**rest}</c>): an encoded backslash, a <c>;</c> path parameter, a dot segment left after
/// Kestrel's own normalization (behind an encoded slash). The real gateway on Kestrel, raw requests.
/// </summary>
public sealed class PathTests(PathTests.Fixture fixture) : IClassFixture<PathTests.Fixture>
{
    public sealed class Fixture : KestrelGatewayFixture
    {
        protected override void ConfigureGateway(GatewayFactory gateway) =>
            gateway.WithTenant("paths", LicenseModel.ConcurrentSessions, 10);
    }

    public static TheoryData<string> Ambiguous => new()
    {
        "/open/..%5Capi/data",
        "/open/..%5capi/data",
        "/open/x%5C..%5C..%5Capi/data",
        "/open/..;/api/data",
        "/open/..%3B/api/data",
        "/open/x/..;jsessionid=1/api/data",
        "/open/data;v=1",
        "/open/..%2Fapi/data",
        "/open/..%2fapi/data",
        "/open/%2E%2E%2Fapi/data",
        "/open/x%2F..%2F..%2Fapi/data",
        "/open/.%2F..%2Fapi/data",
        "/open/x%2F.%2Fdata",
        "/api/..%5Copen/data",
    };

    [Theory]
    [MemberData(nameof(Ambiguous))]
    public async Task An_ambiguous_path_is_refused_400_invalid_path_and_never_forwarded(string target)
    {
        var marker = Guid.NewGuid().ToString("N");
        var response = await fixture.SendAsync(new RawRequest("GET", target + "?m=" + marker));

        Assert.True(response.Status == 400 && response.IsProblem && response.ProblemCode == "invalid-path", $"{target}: {response}");
        Assert.DoesNotContain(fixture.Backend.Received, r => r.QueryString.Contains(marker, StringComparison.Ordinal));
        Assert.DoesNotContain("Gateway.", response.BodyText, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/open/plain/path")]
    [InlineData("/open/a.b/..c/c../.../x.")]
    [InlineData("/open/%2E%2Ex/y%2E")]
    [InlineData("/open/a%20b")]
    [InlineData("/open/a%2Fb")]
    [InlineData("/open/x/../y/./z")]
    [InlineData("/open/x/%2E%2E/y")]
    public async Task Other_paths_are_forwarded(string target)
    {
        var marker = Guid.NewGuid().ToString("N");
        var response = await fixture.SendAsync(new RawRequest("GET", target + "?m=" + marker));

        Assert.True(response.Status == 200, $"{target}: {response}");
        Assert.Contains(fixture.Backend.Received, r => r.QueryString.Contains(marker, StringComparison.Ordinal));
    }
}
