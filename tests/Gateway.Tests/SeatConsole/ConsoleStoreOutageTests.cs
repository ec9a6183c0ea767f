using System.Net;
using Gateway.Licensing.Tests.Infrastructure;
using Gateway.Tests.Infrastructure;
using Gateway.Tests.Management;
using Gateway.Tests.Support;
using Microsoft.AspNetCore.TestHost;

namespace Gateway.Tests.SeatConsole;

/// <summary>
/// The console's sign-ins live in the store: while it does not answer, completing a sign-in and using
/// one are 503 problems (never a 500, and no cookie for a sign-in that was not stored); when it is back,
/// both work again by themselves. A private Redis that the tests stop and start.
/// </summary>
public sealed class ConsoleStoreOutageTests(ConsoleStoreOutageTests.Fixture fixture) : IClassFixture<ConsoleStoreOutageTests.Fixture>
{
    private static readonly Uri ConsoleBase = new("http://localhost/_licensing/console/");

    public sealed class Fixture : IAsyncLifetime
    {
        public OidcProvider Provider { get; } = new();
        // Durable (AOF, written at every command): a store that comes back keeps its sign-ins and key ring.
        public RedisServerFixture Redis { get; } = new() { Arguments = ["--appendonly", "yes", "--appendfsync", "always"] };
        public LoopbackBackend Backend { get; } = new();
        public GatewayFactory Gateway { get; private set; } = null!;

        public async Task InitializeAsync()
        {
            await Provider.InitializeAsync();
            Provider.Tenant = "acme";
            await Provider.RegisterWebRedirectUriAsync(new Uri(ConsoleBase, "signin-oidc"));
            await Redis.InitializeAsync();
            await Backend.InitializeAsync();
            Gateway = new GatewayFactory(Redis.ConnectionString + ",syncTimeout=2000,asyncTimeout=2000", Backend.BaseAddress)
                .With("Licensing:Console:Enabled", "true")
                .With("Licensing:Console:Authority", Provider.Authority.AbsoluteUri)
                .With("Licensing:Console:ClientId", OidcProvider.WebClientId)
                .With("Licensing:Console:ClientSecret", OidcProvider.ClientSecret)
                .With("Licensing:Console:RequireHttpsMetadata", "false")
                .With("Licensing:Tenants:acme:Admins:0", "alice");
            (await Gateway.StartAsync()).Dispose();
        }

        public ConsoleBrowser Browser()
        {
            var client = new HttpClient(Gateway.Server.CreateHandler()) { BaseAddress = Gateway.Server.BaseAddress };
            return new ConsoleBrowser(uri => uri.Host == "localhost" ? client : null);
        }

        public async Task DisposeAsync()
        {
            if (Gateway is not null) await Gateway.DisposeAsync();
            await Backend.DisposeAsync();
            await Redis.DisposeAsync();
            await Provider.DisposeAsync();
        }
    }

    [Fact]
    public async Task While_the_store_is_down_sign_in_completion_and_use_are_503_problems_and_both_recover()
    {
        // A sign-in made while the store answers, and one started (sent to the provider) but not completed.
        using var signedIn = fixture.Browser();
        using (var first = await signedIn.SignInAsync(new Uri(ConsoleBase, "signin"), "alice"))
            Assert.Equal(HttpStatusCode.Redirect, first.Answer.StatusCode);
        await signedIn.MeAsync(ConsoleBase);

        using var pending = fixture.Browser();
        using var start = await pending.GetAsync(new Uri(ConsoleBase, "signin"));
        var authorize = start.Headers.Location!;
        using var atProvider = await pending.GetAsync(new Uri(authorize.AbsoluteUri + "&login_hint=alice"));
        var callback = atProvider.Headers.Location!;

        await fixture.Redis.StopAsync();
        try
        {
            var cookiesBefore = pending.SetCookies.Count(c => c.SetCookie.StartsWith(".seat-console=", StringComparison.Ordinal));
            using (var completion = await pending.GetAsync(callback))
            {
                var problem = await ProblemAssert.IsProblemAsync(completion, 503, "store-unavailable");
                Assert.True(completion.Headers.RetryAfter is not null, "no Retry-After");
            }
            Assert.Equal(cookiesBefore, pending.SetCookies.Count(c => c.SetCookie.StartsWith(".seat-console=", StringComparison.Ordinal)));

            using (var me = await signedIn.GetAsync(new Uri(ConsoleBase, "me")))
                await ProblemAssert.IsProblemAsync(me, 503, "store-unavailable");
            using (var api = await signedIn.GetAsync(new Uri(ConsoleBase, "api/v1/tenants/acme")))
                await ProblemAssert.IsProblemAsync(api, 503, "store-unavailable");
        }
        finally
        {
            await fixture.Redis.StartAsync();
        }

        // Back: the earlier sign-in still works, and a new one completes.
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            using var me = await signedIn.GetAsync(new Uri(ConsoleBase, "me"));
            if (me.StatusCode == HttpStatusCode.OK) break;
            Assert.True(DateTime.UtcNow < deadline, $"console/me after the store came back: {(int)me.StatusCode} {await me.Content.ReadAsStringAsync()}");
            await Task.Delay(200);
        }
        using var again = fixture.Browser();
        using var steps = await again.SignInAsync(new Uri(ConsoleBase, "signin"), "alice");
        Assert.Equal(HttpStatusCode.Redirect, steps.Answer.StatusCode);
        await again.MeAsync(ConsoleBase);
    }
}
