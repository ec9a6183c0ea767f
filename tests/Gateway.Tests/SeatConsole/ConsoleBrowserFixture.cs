using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Gateway.Management;
using Gateway.Tests.Hostile;
using Gateway.Tests.Infrastructure;
using Gateway.Tests.Support;
using Microsoft.Playwright;

namespace Gateway.Tests.SeatConsole;

/// <summary>
/// The console in a real browser: an OpenID Connect provider (<see cref="OidcProvider"/>), the real gateway on
/// Kestrel with the console signing in there, and headless Chromium from the OS packages driven by Playwright
/// (the machine's, else fetched from the distribution's packages: <see cref="ChromiumProvisioner"/>).
/// Started once per test class: Chromium and the provider are the expensive parts. Tenants are created through
/// the management API (bearer tokens), so the console can change their plans; each test uses its own.
/// </summary>
public sealed class ConsoleBrowserFixture : IAsyncLifetime
{
    public OidcProvider Provider { get; } = new();
    public ConsoleGateway Gateway { get; private set; } = null!;
    public IPlaywright Playwright { get; private set; } = null!;
    public IBrowser Browser { get; private set; } = null!;

    /// <summary>The Chromium launched: the machine's, or a copy fetched now or earlier (its first fetch is in <see cref="ChromiumResolve"/>).</summary>
    internal ChromiumBrowser Chromium { get; private set; } = null!;

    /// <summary>Time spent finding (or fetching) Chromium, starting the provider, the gateway, and Playwright with Chromium (reported by the tests).</summary>
    public TimeSpan ChromiumResolve { get; private set; }
    public TimeSpan ProviderStart { get; private set; }
    public TimeSpan GatewayStart { get; private set; }
    public TimeSpan BrowserStart { get; private set; }

    public Uri Console => new(Gateway.Address, "/_licensing/console/");

    public async Task InitializeAsync()
    {
        // Never skipped: without Chromium on the machine it is fetched, or this fails naming what to install.
        var clock = Stopwatch.StartNew();
        Chromium = ChromiumProvisioner.Current;
        ChromiumResolve = clock.Elapsed;

        clock.Restart();
        await Provider.InitializeAsync();
        ProviderStart = clock.Elapsed;

        clock.Restart();
        Gateway = new ConsoleGateway(Provider.Authority);
        await Gateway.InitializeAsync();
        await Provider.RegisterWebRedirectUriAsync(new Uri(Gateway.Address, "/_licensing/console/signin-oidc"));
        GatewayStart = clock.Elapsed;

        clock.Restart();
        Playwright = await Microsoft.Playwright.Playwright.CreateAsync();
        Browser = await Playwright.Chromium.LaunchAsync(Chromium.LaunchOptions());
        BrowserStart = clock.Elapsed;
    }

    /// <summary>A fresh browser (no cookies) signed in to the console through the provider as <paramref name="user"/> of <paramref name="tenant"/>.</summary>
    public async Task<(IBrowserContext Context, IPage Page)> SignInAsync(string tenant, string role, string user = OidcProvider.DefaultUser)
    {
        Provider.Tenant = tenant;
        Provider.Roles = [role];
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = Gateway.Address.AbsoluteUri,
            AcceptDownloads = true,
            ViewportSize = new ViewportSize { Width = 1200, Height = 900 },
        });
        context.SetDefaultTimeout(15_000);
        var page = await context.NewPageAsync();
        await page.GotoAsync(Console.AbsoluteUri);
        await page.GetByRole(AriaRole.Link, new() { Name = "Sign in" }).ClickAsync();
        await Assertions.Expect(page.Locator("#who-name")).ToHaveTextAsync(user);
        return (context, page);
    }

    /// <summary>Creates (or changes) a plan through the management API, as an operator with a bearer token.</summary>
    public async Task PutPlanAsync(string tenant, object plan)
    {
        using var request = new HttpRequestMessage(HttpMethod.Put, $"/_licensing/v1/tenants/{tenant}") { Content = JsonContent.Create(plan) };
        request.Headers.Authorization = new("Bearer", Operator);
        using var response = await Gateway.Http.SendAsync(request);
        Assert.True(response.IsSuccessStatusCode, $"PUT plan {tenant}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    public async Task SetUserActiveAsync(string tenant, string user, bool active)
    {
        using var request = new HttpRequestMessage(HttpMethod.Put, $"/_licensing/v1/tenants/{tenant}/users/{user}") { Content = JsonContent.Create(new { active }) };
        request.Headers.Authorization = new("Bearer", Operator);
        using var response = await Gateway.Http.SendAsync(request);
        Assert.True(response.IsSuccessStatusCode, $"PUT user {tenant}/{user}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    /// <summary>GET on the management API with an operator's bearer token.</summary>
    public async Task<JsonElement> GetAsync(string path)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Authorization = new("Bearer", Operator);
        using var response = await Gateway.Http.SendAsync(request);
        Assert.True(response.IsSuccessStatusCode, $"GET {path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    /// <summary>A proxied request of a client (a seat), as <paramref name="user"/> of <paramref name="tenant"/> on <paramref name="device"/>.</summary>
    public async Task<HttpStatusCode> ClientRequestAsync(string tenant, string user, string device)
    {
        using var response = await Gateway.Http.SendAsync(GatewayRequests.Get("/api/work", TestTokens.User(tenant, user), device));
        return response.StatusCode;
    }

    private static string Operator => TestTokens.User("ops", "olga", ("role", ManagementCaller.OperatorRole));

    public async Task DisposeAsync()
    {
        if (Browser is not null) await Browser.DisposeAsync();
        Playwright?.Dispose();
        if (Gateway is not null) await Gateway.DisposeAsync();
        await Provider.DisposeAsync();
    }

    /// <summary>The gateway with the console on, signing in at the test's provider.</summary>
    public sealed class ConsoleGateway(Uri authority) : KestrelGatewayFixture
    {
        protected override bool CaptureEveryLevel => false;

        protected override void ConfigureGateway(GatewayFactory gateway) => ConsoleSettings.Enable(gateway, authority);
    }
}
