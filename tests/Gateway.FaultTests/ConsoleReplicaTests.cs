using System.Net;
using System.Text.Json;
using Gateway.FaultTests.Infrastructure;
using Gateway.Licensing.Tests.Infrastructure;
using Gateway.Tests.Infrastructure;
using Gateway.Tests.SeatConsole;
using StackExchange.Redis;

namespace Gateway.FaultTests;

/// <summary>
/// A console sign-in made on one replica works on another: two real gateway processes on one Redis,
/// each with its own home directory (so nothing is shared through the machine's file system, as on two
/// hosts), signing in against a real OpenID Connect provider. What makes it work is in the store: the
/// Data Protection key ring (<c>lic:{console}:dataprotection</c>) that protects the cookie, and the
/// sign-in ticket (<c>lic:{console}:signin:*</c>) the cookie points to.
/// </summary>
public sealed class ConsoleReplicaTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const string Tenant = "acme";
    private readonly OidcProvider _provider = new();
    private readonly RedisServerFixture _redis = new();
    private readonly LoopbackBackend _backend = new();
    private readonly TempDirectory _homeA = new("console-home-a");
    private readonly TempDirectory _homeB = new("console-home-b");
    private readonly List<GatewayProcess> _replicas = [];

    public async Task InitializeAsync()
    {
        await _provider.InitializeAsync();
        _provider.Tenant = Tenant;
        await _redis.InitializeAsync();
        await _backend.InitializeAsync();
    }

    private GatewaySettings Settings(TempDirectory home) =>
        new GatewaySettings(_redis.ConnectionString, _backend.BaseAddress)
            .With("Licensing:Console:Enabled", "true")
            .With("Licensing:Console:Authority", _provider.Authority.AbsoluteUri)
            .With("Licensing:Console:ClientId", OidcProvider.WebClientId)
            .With("Licensing:Console:ClientSecret", OidcProvider.ClientSecret)
            .With("Licensing:Console:RequireHttpsMetadata", "false")
            .With($"Licensing:Tenants:{Tenant}:Model", "RegisteredUsers")
            .With($"Licensing:Tenants:{Tenant}:SeatLimit", "5")
            .With($"Licensing:Tenants:{Tenant}:Admins:0", "alice")
            // Where ASP.NET keeps a key ring of its own when none is configured: one per replica here.
            .With("HOME", home.Path);

    private async Task<GatewayProcess> StartAsync(string name, TempDirectory home)
    {
        var replica = await GatewayProcess.StartAsync(Settings(home), name, output);
        _replicas.Add(replica);
        await _provider.RegisterWebRedirectUriAsync(new Uri(replica.BaseAddress, "_licensing/console/signin-oidc"));
        return replica;
    }

    [Fact]
    public async Task A_sign_in_made_on_one_replica_works_on_another_and_a_sign_out_on_either_ends_it_on_both()
    {
        var a = await StartAsync("replica-a", _homeA);
        using var browser = new ConsoleBrowser();
        var consoleA = new Uri(a.BaseAddress, "_licensing/console/");
        using (var steps = await browser.SignInAsync(new Uri(consoleA, "signin"), "alice"))
            Assert.True(steps.Answer.StatusCode == HttpStatusCode.Redirect, $"sign-in on A: {(int)steps.Answer.StatusCode} {await steps.Answer.Content.ReadAsStringAsync()}");
        var onA = await browser.MeAsync(consoleA);

        // The key ring and the ticket are in the store.
        var db = _redis.Connection.GetDatabase();
        Assert.True(await db.ListLengthAsync("lic:{console}:dataprotection") >= 1, "no Data Protection key in the store");
        Assert.Single(_redis.Connection.GetServer("127.0.0.1", _redis.Port).Keys(pattern: "lic:{console}:signin:*"));

        // B starts after the sign-in: it knows A's cookie only through the store.
        var b = await StartAsync("replica-b", _homeB);
        var consoleB = new Uri(b.BaseAddress, "_licensing/console/");
        JsonElement onB;
        using (var me = await browser.GetAsync(new Uri(consoleB, "me")))
        {
            var text = await me.Content.ReadAsStringAsync();
            Assert.True(me.StatusCode == HttpStatusCode.OK, $"A's sign-in on B: {(int)me.StatusCode} {text}{Environment.NewLine}{b.Describe()}");
            onB = JsonDocument.Parse(text).RootElement.Clone();
        }
        Assert.Equal("alice", onB.GetProperty("user").GetString());
        Assert.Equal(onA.GetProperty("antiforgeryToken").GetString(), onB.GetProperty("antiforgeryToken").GetString());
        Assert.True(onB.GetProperty("isAdmin").GetBoolean());

        // A change through B with the token of the sign-in made on A.
        var token = onB.GetProperty("antiforgeryToken").GetString()!;
        using (var change = await browser.SendAsync(HttpMethod.Put, new Uri(consoleB, "api/v1/tenants/acme/users/carol"), r =>
               {
                   r.Content = new StringContent("""{"active":true}""", System.Text.Encoding.UTF8, "application/json");
                   r.Headers.Add("X-Console-Antiforgery", token);
               }))
        {
            Assert.True(change.StatusCode is HttpStatusCode.Created or HttpStatusCode.OK, $"{(int)change.StatusCode} {await change.Content.ReadAsStringAsync()}");
        }
        Assert.True(await db.SetContainsAsync("lic:{acme}:active", "carol"));

        // A sign-in made on B works on A too.
        using var second = new ConsoleBrowser();
        using (var steps = await second.SignInAsync(new Uri(consoleB, "signin"), "alice"))
            Assert.Equal(HttpStatusCode.Redirect, steps.Answer.StatusCode);
        await second.MeAsync(consoleA);

        // Sign-out on B: the ticket is gone from the store, so A refuses the cookie as well.
        using (var signOut = await browser.SendAsync(HttpMethod.Post, new Uri(consoleB, "signout"), r => r.Headers.Add("X-Console-Antiforgery", token)))
            Assert.Equal(HttpStatusCode.NoContent, signOut.StatusCode);
        var stale = browser.SetCookies.First(c => c.SetCookie.StartsWith(".seat-console=C", StringComparison.Ordinal)).SetCookie.Split(';')[0];
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(consoleA, "me")) { Headers = { { "Cookie", stale } } };
        using var refused = await http.SendAsync(request);
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        await second.MeAsync(consoleA);
    }

    public async Task DisposeAsync()
    {
        foreach (var replica in _replicas) await replica.DisposeAsync();
        await _backend.DisposeAsync();
        await _redis.DisposeAsync();
        await _provider.DisposeAsync();
        _homeA.Dispose();
        _homeB.Dispose();
    }
}
