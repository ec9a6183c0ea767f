using System.Net;
using Gateway.Licensing.Rules;
using Gateway.Tests.Support;
using static Gateway.Tests.Support.GatewayRequests;

namespace Gateway.Tests;

/// <summary>A <c>Release</c> route (logout) ends the caller's session when the backend answers 2xx/3xx.</summary>
public sealed class ReleaseTests(ReleaseTests.Fixture fixture) : IClassFixture<ReleaseTests.Fixture>
{
    public sealed class Fixture : GatewayFixture
    {
        protected override void Configure(GatewayFactory gateway) => gateway
            .WithTenant("rel-ok", LicenseModel.ConcurrentSessions, 1)
            .WithTenant("rel-redirect", LicenseModel.ConcurrentSessions, 1)
            .WithTenant("rel-4xx", LicenseModel.ConcurrentSessions, 1);
    }

    private HttpClient Client => fixture.Client;

    private async Task<int> ActiveSessionsAsync(string tenant) => (await fixture.Gateway.Store.GetTenantAsync(tenant))!.ActiveSessions;

    [Fact]
    public async Task Successful_release_ends_the_session_before_the_client_sees_the_answer()
    {
        var alice = TestTokens.User("rel-ok", "alice");
        var admitted = await Echo.ReadAsync(await Client.SendAsync(Get("/api/x", alice)));
        Assert.Equal(1, await ActiveSessionsAsync("rel-ok"));

        var logout = await Echo.ReadAsync(await Client.SendAsync(Get("/logout/connect/endsession", alice)));

        Assert.Equal(admitted.Header("X-Licensing-Session"), logout.Header("X-Licensing-Session"));
        Assert.Equal(0, await ActiveSessionsAsync("rel-ok"));
        // The seat is free at once.
        await (await Client.SendAsync(Get("/api/x", TestTokens.User("rel-ok", "bob")))).AssertForwardedAsync();
    }

    [Fact]
    public async Task Redirect_answer_also_releases()
    {
        var alice = TestTokens.User("rel-redirect", "alice");
        await (await Client.SendAsync(Get("/api/x", alice))).AssertForwardedAsync();

        var logout = await Client.SendAsync(Get("/logout/status/302", alice));

        Assert.Equal(HttpStatusCode.Redirect, logout.StatusCode);
        Assert.Equal(0, await ActiveSessionsAsync("rel-redirect"));
    }

    [Fact]
    public async Task Failed_release_keeps_the_session()
    {
        var alice = TestTokens.User("rel-4xx", "alice");
        await (await Client.SendAsync(Get("/api/x", alice))).AssertForwardedAsync();

        var logout = await Client.SendAsync(Get("/logout/status/400", alice));

        Assert.Equal(HttpStatusCode.BadRequest, logout.StatusCode);
        Assert.Equal(1, await ActiveSessionsAsync("rel-4xx"));
        await (await Client.SendAsync(Get("/api/x", alice))).AssertForwardedAsync();
        Assert.Equal(HttpStatusCode.TooManyRequests, (await Client.SendAsync(Get("/api/x", TestTokens.User("rel-4xx", "bob")))).StatusCode);
    }

    [Fact]
    public async Task Release_without_a_token_is_forwarded_and_ends_nothing()
    {
        // A browser's logout navigation carries no bearer token: it must still reach the backend.
        var response = await Client.SendAsync(Get("/logout/connect/endsession", token: null));
        await response.AssertForwardedAsync();
    }

    [Fact]
    public async Task Release_from_a_browser_without_device_cookie_is_forwarded_without_session_or_new_cookie()
    {
        var response = await Client.SendAsync(Get("/logout/connect/endsession", TestTokens.User("rel-ok", "carol"), device: null, userAgent: BrowserAgent));

        var echo = await Echo.ReadAsync(response);
        Assert.Null(echo.Header("X-Licensing-Session"));
        Assert.False(response.Headers.Contains("Set-Cookie"));
    }
}
