using Gateway.Tests.Management;
using Gateway.Tests.Support;
using static Gateway.Tests.Support.GatewayRequests;

namespace Gateway.Tests.SeatConsole;

/// <summary>
/// Without <c>Licensing:Console:Enabled</c> there is no console: its paths, the sign-in callbacks
/// included, are unknown management paths (404), and the gateway writes nothing of the console's to the store.
/// </summary>
public sealed class ConsoleDisabledTests(StartupTests.Stores stores) : IClassFixture<StartupTests.Stores>
{
    [Fact]
    public async Task Every_console_path_is_404_and_the_store_holds_no_console_key()
    {
        await using var gateway = new GatewayFactory(stores.Redis.ConnectionString, stores.Backend.BaseAddress);
        var client = await gateway.StartAsync();
        foreach (var path in new[]
                 {
                     "console/", "console/signin", "console/signin?as=admin", "console/me", "console/signin-oidc?code=a&state=b",
                     "console/signout-oidc?state=x", "console/signout-remote?sid=x&iss=y", "console/api/v1/tenants/acme",
                 })
        {
            using var response = await client.SendAsync(Get("/_licensing/" + path));
            await ProblemAssert.IsProblemAsync(response, 404, "not-found");
        }
        using (var post = await client.SendAsync(new HttpRequestMessage(HttpMethod.Post, "/_licensing/console/signout")))
            await ProblemAssert.IsProblemAsync(post, 404, "not-found");

        var server = stores.Redis.Connection.GetServer("127.0.0.1", stores.Redis.Port);
        Assert.Empty(server.Keys(pattern: "lic:{console}:*"));
    }
}
