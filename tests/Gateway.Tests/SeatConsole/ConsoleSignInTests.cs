using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Gateway.Licensing.Rules;
using Gateway.Licensing.Store;
using Gateway.Licensing.Tests.Infrastructure;
using Gateway.Tests.Infrastructure;
using Gateway.Tests.Management;
using Gateway.Tests.Support;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;

namespace Gateway.Tests.SeatConsole;

/// <summary>
/// The seat console's sign-in against a real OpenID Connect provider (authorization code with PKCE), its
/// cookie, <c>console/me</c>, and the management API through the console's sign-in: same roles (here
/// assigned by configuration: <c>Licensing:Operators</c>, <c>Licensing:Tenants:{t}:Admins</c>, and by the
/// role claim), tenant isolation, the antiforgery header on every change, sign-out, and sign-in failures
/// answered as problems. Real Redis, the gateway in a test server.
/// </summary>
public sealed class ConsoleSignInTests(ConsoleSignInTests.Fixture fixture) : IClassFixture<ConsoleSignInTests.Fixture>
{
    private const string Acme = "acme";
    private const string Globex = "globex";
    private static readonly Uri Gateway = new("http://localhost/");
    private static readonly Uri ConsoleBase = new("http://localhost/_licensing/console/");

    public sealed class Fixture : IAsyncLifetime
    {
        public OidcProvider Provider { get; } = new();
        public RedisServerFixture Redis { get; } = new();
        public LoopbackBackend Backend { get; } = new();
        public GatewayFactory Gateway { get; private set; } = null!;
        public HttpClient Client { get; private set; } = null!;

        public async Task InitializeAsync()
        {
            await Provider.InitializeAsync();
            Provider.Tenant = Acme;
            await Provider.RegisterWebRedirectUriAsync(new Uri(ConsoleBase, "signin-oidc"));
            await Redis.InitializeAsync();
            await Backend.InitializeAsync();
            Gateway = new GatewayFactory(Redis.ConnectionString + ",syncTimeout=5000,asyncTimeout=5000", Backend.BaseAddress)
                .With("Licensing:Console:Enabled", "true")
                .With("Licensing:Console:Authority", Provider.Authority.AbsoluteUri)
                .With("Licensing:Console:ClientId", OidcProvider.WebClientId)
                .With("Licensing:Console:ClientSecret", OidcProvider.ClientSecret)
                .With("Licensing:Console:RequireHttpsMetadata", "false")
                .With("Licensing:Operators:0", "ops")
                .With($"Licensing:Tenants:{Acme}:Admins:0", "alice");
            Client = await Gateway.StartAsync();
            foreach (var tenant in new[] { Acme, Globex })
            {
                await Gateway.Store.SetPlanAsync(tenant, new TenantPlan(LicenseModel.RegisteredUsers, 5, []), fromConfiguration: false, actor: "test");
                await Gateway.Store.SetUserActiveAsync(tenant, "bob", true, "test");
            }
        }

        /// <summary>A browser whose requests to the gateway go to the test server, the rest to the network.</summary>
        public ConsoleBrowser Browser()
        {
            var server = Gateway.Server.CreateHandler();
            var client = new HttpClient(server) { BaseAddress = Gateway.Server.BaseAddress };
            return new ConsoleBrowser(uri => uri.Host == "localhost" ? client : null);
        }

        public async Task DisposeAsync()
        {
            Client?.Dispose();
            if (Gateway is not null) await Gateway.DisposeAsync();
            await Backend.DisposeAsync();
            await Redis.DisposeAsync();
            await Provider.DisposeAsync();
        }
    }

    private async Task<(ConsoleBrowser Browser, string Token)> SignedInAsync(string user)
    {
        var browser = fixture.Browser();
        using var steps = await browser.SignInAsync(new Uri(ConsoleBase, "signin"), user);
        Assert.True(steps.Answer.StatusCode == HttpStatusCode.Redirect, $"callback: {(int)steps.Answer.StatusCode} {await steps.Answer.Content.ReadAsStringAsync()}");
        var me = await browser.MeAsync(ConsoleBase);
        return (browser, me.GetProperty("antiforgeryToken").GetString()!);
    }

    private static Task<HttpResponseMessage> ChangeAsync(ConsoleBrowser browser, HttpMethod method, string apiPath, string? json, string? antiforgery) =>
        browser.SendAsync(method, new Uri(ConsoleBase, "api/v1/" + apiPath), request =>
        {
            if (json is not null) request.Content = new StringContent(json, Encoding.UTF8, "application/json");
            if (antiforgery is not null) request.Headers.Add("X-Console-Antiforgery", antiforgery);
        });

    [Fact]
    public async Task Sign_in_is_an_authorization_code_flow_with_PKCE_and_sets_a_small_cookie_scoped_to_the_console()
    {
        using var browser = fixture.Browser();
        using var steps = await browser.SignInAsync(new Uri(ConsoleBase, "signin?returnUrl=%2F_licensing%2Fconsole%2Fusers"), "alice");

        var query = Query(steps.Authorize);
        Assert.Equal(fixture.Provider.Authority.GetLeftPart(UriPartial.Authority), steps.Authorize.GetLeftPart(UriPartial.Authority));
        Assert.Equal("code", query["response_type"]);
        Assert.Equal("S256", query["code_challenge_method"]);
        Assert.False(string.IsNullOrEmpty(query["code_challenge"]));
        Assert.Equal(OidcProvider.WebClientId, query["client_id"]);
        Assert.Equal("http://localhost/_licensing/console/signin-oidc", query["redirect_uri"]);
        Assert.Contains("openid", query["scope"].Split(' '));

        Assert.Equal(HttpStatusCode.Redirect, steps.Answer.StatusCode);
        Assert.Equal("/_licensing/console/users", steps.Answer.Headers.Location!.OriginalString);
        var cookie = browser.SetCookies.Single(c => c.SetCookie.StartsWith(".seat-console=", StringComparison.Ordinal) && !c.SetCookie.StartsWith(".seat-console=;", StringComparison.Ordinal)).SetCookie;
        var attributes = cookie.Split(';').Select(a => a.Trim().ToLowerInvariant()).ToArray();
        Assert.Contains("path=/_licensing/console", attributes);
        Assert.Contains("httponly", attributes);
        Assert.Contains("samesite=lax", attributes);
        // The ticket is kept in the store; the cookie holds only its protected id.
        Assert.True(cookie.Split(';')[0].Length < 600, $"cookie of {cookie.Length} characters: the ticket is not server-side");
        var db = fixture.Redis.Connection.GetDatabase();
        var tickets = fixture.Redis.Connection.GetServer("127.0.0.1", fixture.Redis.Port).Keys(pattern: "lic:{console}:signin:*").ToArray();
        Assert.NotEmpty(tickets);
        Assert.True(await db.KeyExistsAsync("lic:{console}:dataprotection"), "the Data Protection key ring is not in the store");

        // The cookie goes only to the console's paths.
        Assert.Empty(browser.Cookies.GetCookieHeader(new Uri(Gateway, "_licensing/v1/tenants/acme")));
        Assert.Empty(browser.Cookies.GetCookieHeader(new Uri(Gateway, "api/anything")));
        Assert.Contains(".seat-console=", browser.Cookies.GetCookieHeader(new Uri(ConsoleBase, "api/v1/tenants/acme")));

        var me = await browser.MeAsync(ConsoleBase);
        Assert.Equal("alice", me.GetProperty("user").GetString());
        Assert.Equal(Acme, me.GetProperty("tenant").GetString());
        Assert.True(me.GetProperty("isAdmin").GetBoolean());
        Assert.False(me.GetProperty("isOperator").GetBoolean());
        Assert.Equal(["license-admin"], me.GetProperty("roles").EnumerateArray().Select(r => r.GetString()));
        Assert.Equal("/_licensing/console/api/v1", me.GetProperty("apiBase").GetString());
        Assert.Equal("X-Console-Antiforgery", me.GetProperty("antiforgeryHeader").GetString());
        Assert.Equal(64, me.GetProperty("antiforgeryToken").GetString()!.Length);
        Assert.Equal("oidc", me.GetProperty("signIn").GetString());
        var expires = me.GetProperty("expiresAt").GetDateTimeOffset();
        Assert.InRange(expires - DateTimeOffset.UtcNow, TimeSpan.FromHours(7.9), TimeSpan.FromHours(8.1));
    }

    [Fact]
    public async Task Without_a_sign_in_the_console_answers_401_problems_and_never_takes_a_bearer_token()
    {
        using var browser = fixture.Browser();
        using (var me = await browser.GetAsync(new Uri(ConsoleBase, "me")))
            await ProblemAssert.IsProblemAsync(me, 401, "sign-in-required");

        // A bearer token good for /_licensing/v1 is no sign-in of the console.
        var token = await fixture.Provider.ClientCredentialsTokenAsync();
        using var withToken = await browser.SendAsync(HttpMethod.Get, new Uri(ConsoleBase, "api/v1/tenants/acme"),
            r => r.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token));
        await ProblemAssert.IsProblemAsync(withToken, 401, "sign-in-required");
    }

    [Fact]
    public async Task The_console_cookie_is_no_credential_for_the_bearer_API()
    {
        var (browser, _) = await SignedInAsync("ops");
        using (browser)
        {
            var cookie = browser.Cookies.GetCookieHeader(ConsoleBase);
            using var response = await fixture.Client.SendAsync(new HttpRequestMessage(HttpMethod.Get, "/_licensing/v1/tenants/acme") { Headers = { { "Cookie", cookie } } });
            await ProblemAssert.IsProblemAsync(response, 401, "token-missing");
        }
    }

    [Fact]
    public async Task A_tenant_admin_reads_and_changes_its_own_tenant_through_the_console()
    {
        var (browser, token) = await SignedInAsync("alice");
        using (browser)
        {
            using var tenant = await browser.GetAsync(new Uri(ConsoleBase, "api/v1/tenants/acme"));
            Assert.Equal(HttpStatusCode.OK, tenant.StatusCode);
            Assert.Equal(Acme, (await tenant.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("tenant").GetString());

            var user = "u-" + Guid.NewGuid().ToString("N")[..8];
            using var put = await ChangeAsync(browser, HttpMethod.Put, $"tenants/acme/users/{user}", """{"active":true}""", token);
            Assert.Equal(HttpStatusCode.Created, put.StatusCode);
            Assert.Equal($"/_licensing/console/api/v1/tenants/acme/users/{user}", put.Headers.Location?.OriginalString);
            Assert.True(await fixture.Redis.Connection.GetDatabase().SetContainsAsync("lic:{acme}:active", user));

            // The audit trail names the signed-in admin.
            using var audit = await browser.GetAsync(new Uri(ConsoleBase, "api/v1/tenants/acme/audit?limit=5"));
            Assert.Contains("\"alice\"", await audit.Content.ReadAsStringAsync());

            using var csv = await browser.SendAsync(HttpMethod.Get, new Uri(ConsoleBase, "api/v1/tenants/acme/users"), r => r.Headers.Add("Accept", "text/csv"));
            Assert.Equal("text/csv", csv.Content.Headers.ContentType?.MediaType);
            Assert.Contains(user + ",true", await csv.Content.ReadAsStringAsync());
        }
    }

    [Fact]
    public async Task A_tenant_admin_can_neither_see_nor_change_another_tenant_through_the_console()
    {
        var (browser, token) = await SignedInAsync("alice");
        using (browser)
        {
            var before = await StoreStateAsync(Globex);
            foreach (var (method, path, body) in new (HttpMethod, string, string?)[]
                     {
                         (HttpMethod.Get, "tenants/globex", null),
                         (HttpMethod.Get, "tenants/globex/users", null),
                         (HttpMethod.Get, "tenants/globex/sessions", null),
                         (HttpMethod.Get, "tenants/globex/audit", null),
                         (HttpMethod.Get, "tenants/globex/usage", null),
                         (HttpMethod.Put, "tenants/globex/users/bob", """{"active":false}"""),
                         (HttpMethod.Post, "tenants/globex/users/swap", """{"deactivate":"bob","activate":"eve"}"""),
                         (HttpMethod.Patch, "tenants/globex/users", """{"users":[{"userId":"bob","active":false}]}"""),
                         (HttpMethod.Put, "tenants/globex", """{"model":"RegisteredUsers","seatLimit":1}"""),
                         (HttpMethod.Put, "tenants/acme", """{"model":"RegisteredUsers","seatLimit":50}"""),
                         (HttpMethod.Get, "tenants", null),
                     })
            {
                using var response = await ChangeAsync(browser, method, path, body, token);
                await ProblemAssert.IsProblemAsync(response, 403, "forbidden");
            }
            Assert.Equal(before, await StoreStateAsync(Globex));
        }
    }

    [Fact]
    public async Task A_signed_in_user_without_a_role_is_refused_by_every_tenant_route()
    {
        var (browser, token) = await SignedInAsync("mallory");
        using (browser)
        {
            var me = await browser.MeAsync(ConsoleBase);
            Assert.False(me.GetProperty("isAdmin").GetBoolean());
            Assert.False(me.GetProperty("isOperator").GetBoolean());
            Assert.Empty(me.GetProperty("roles").EnumerateArray());
            using var read = await browser.GetAsync(new Uri(ConsoleBase, "api/v1/tenants/acme"));
            await ProblemAssert.IsProblemAsync(read, 403, "forbidden");
            using var write = await ChangeAsync(browser, HttpMethod.Put, "tenants/acme/users/bob", """{"active":false}""", token);
            await ProblemAssert.IsProblemAsync(write, 403, "forbidden");
        }
    }

    [Fact]
    public async Task An_operator_sees_every_tenant_and_edits_plans_through_the_console()
    {
        var (browser, token) = await SignedInAsync("ops");
        using (browser)
        {
            var me = await browser.MeAsync(ConsoleBase);
            Assert.True(me.GetProperty("isOperator").GetBoolean());

            using var list = await browser.GetAsync(new Uri(ConsoleBase, "api/v1/tenants"));
            Assert.Equal(HttpStatusCode.OK, list.StatusCode);
            var tenants = (await list.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("tenants").EnumerateArray().Select(t => t.GetProperty("tenant").GetString()).ToArray();
            Assert.Contains(Acme, tenants);
            Assert.Contains(Globex, tenants);

            using var globex = await browser.GetAsync(new Uri(ConsoleBase, "api/v1/tenants/globex"));
            Assert.Equal(HttpStatusCode.OK, globex.StatusCode);

            var fresh = "t-" + Guid.NewGuid().ToString("N")[..8];
            using var plan = await ChangeAsync(browser, HttpMethod.Put, $"tenants/{fresh}", """{"model":"ConcurrentSessions","seatLimit":7,"maxSessionsPerUser":2}""", token);
            Assert.Equal(HttpStatusCode.Created, plan.StatusCode);
            var snapshot = await fixture.Gateway.Store.GetTenantAsync(fresh);
            Assert.Equal(7, snapshot!.SeatLimit);
            Assert.Equal(LicenseModel.ConcurrentSessions, snapshot.Model);
        }
    }

    [Fact]
    public async Task The_role_claim_of_the_sign_in_makes_an_operator_as_it_does_in_a_token()
    {
        fixture.Provider.Roles = ["license-operator"];
        (ConsoleBrowser Browser, string Token) signedIn;
        try
        {
            signedIn = await SignedInAsync("carol");
        }
        finally
        {
            fixture.Provider.Roles = [];
        }
        using var browser = signedIn.Browser;
        var me = await browser.MeAsync(ConsoleBase);
        Assert.True(me.GetProperty("isOperator").GetBoolean());
        using var globex = await browser.GetAsync(new Uri(ConsoleBase, "api/v1/tenants/globex"));
        Assert.Equal(HttpStatusCode.OK, globex.StatusCode);
    }

    [Fact]
    public async Task Every_change_without_the_sign_ins_antiforgery_token_is_a_400_problem_and_changes_nothing()
    {
        var (browser, token) = await SignedInAsync("ops");
        var (other, otherToken) = await SignedInAsync("ops");
        using (browser)
        using (other)
        {
            Assert.NotEqual(token, otherToken);
            var before = await StoreStateAsync(Globex);
            foreach (var sent in new[] { null, "", "wrong", otherToken, token.ToUpperInvariant() })
            {
                foreach (var (method, path, body) in new (HttpMethod, string, string?)[]
                         {
                             (HttpMethod.Put, "tenants/globex/users/bob", """{"active":false}"""),
                             (HttpMethod.Post, "tenants/globex/users/swap", """{"deactivate":"bob","activate":"eve"}"""),
                             (HttpMethod.Patch, "tenants/globex/users", """{"users":[{"userId":"bob","active":false}]}"""),
                             (HttpMethod.Put, "tenants/globex", """{"model":"RegisteredUsers","seatLimit":1}"""),
                             (HttpMethod.Delete, "tenants/globex/sessions/s-1", null),
                         })
                {
                    using var response = await ChangeAsync(browser, method, path, body, sent);
                    await ProblemAssert.IsProblemAsync(response, 400, "antiforgery-token-invalid");
                }
            }
            using (var signOut = await browser.SendAsync(HttpMethod.Post, new Uri(ConsoleBase, "signout")))
                await ProblemAssert.IsProblemAsync(signOut, 400, "antiforgery-token-invalid");
            Assert.Equal(before, await StoreStateAsync(Globex));

            // Reads need no token; the right token lets the change through.
            using var read = await browser.GetAsync(new Uri(ConsoleBase, "api/v1/tenants/globex/users"));
            Assert.Equal(HttpStatusCode.OK, read.StatusCode);
            using var change = await ChangeAsync(browser, HttpMethod.Put, "tenants/globex/users/bob", """{"active":true}""", token);
            Assert.Equal(HttpStatusCode.OK, change.StatusCode);
        }
    }

    [Fact]
    public async Task Sign_out_removes_the_ticket_from_the_store_so_the_old_cookie_is_worthless()
    {
        var (browser, token) = await SignedInAsync("alice");
        using (browser)
        {
            var cookie = browser.Cookies.GetCookieHeader(ConsoleBase);
            var server = fixture.Redis.Connection.GetServer("127.0.0.1", fixture.Redis.Port);
            var ticketsBefore = server.Keys(pattern: "lic:{console}:signin:*").Count();

            using var signOut = await browser.SendAsync(HttpMethod.Post, new Uri(ConsoleBase, "signout"), r => r.Headers.Add("X-Console-Antiforgery", token));
            Assert.Equal(HttpStatusCode.NoContent, signOut.StatusCode);
            Assert.Equal(ticketsBefore - 1, server.Keys(pattern: "lic:{console}:signin:*").Count());

            // The cookie as it was before (a copy kept by an attacker): refused.
            using var replay = await fixture.Client.SendAsync(new HttpRequestMessage(HttpMethod.Get, "/_licensing/console/me") { Headers = { { "Cookie", cookie } } });
            await ProblemAssert.IsProblemAsync(replay, 401, "sign-in-required");
        }
    }

    [Fact]
    public async Task A_callback_that_is_not_the_answer_to_a_sign_in_of_this_browser_is_a_400_problem_not_a_500()
    {
        using var browser = fixture.Browser();
        foreach (var query in new[] { "", "?code=abc", "?code=abc&state=forged", "?error=access_denied&state=x" })
        {
            using var response = await browser.GetAsync(new Uri(ConsoleBase, "signin-oidc" + query));
            await ProblemAssert.IsProblemAsync(response, 400, "sign-in-failed");
        }
        // The provider's sign-out callbacks, sent by anyone: never a 5xx.
        foreach (var path in new[] { "signout-oidc", "signout-oidc?state=forged", "signout-remote", "signout-remote?sid=x&iss=y" })
        {
            using var response = await browser.GetAsync(new Uri(ConsoleBase, path));
            Assert.True((int)response.StatusCode < 500, $"{path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        }

        // A real callback replayed in another browser (no correlation cookie), and replayed in the same
        // one (the code is used up): both refused.
        using var steps = await browser.SignInAsync(new Uri(ConsoleBase, "signin"), "alice");
        Assert.Equal(HttpStatusCode.Redirect, steps.Answer.StatusCode);
        using var elsewhere = fixture.Browser();
        using (var replayed = await elsewhere.GetAsync(steps.Callback))
            await ProblemAssert.IsProblemAsync(replayed, 400, "sign-in-failed");
        using (var again = await browser.GetAsync(steps.Callback))
            await ProblemAssert.IsProblemAsync(again, 400, "sign-in-failed");
    }

    [Fact]
    public async Task The_return_address_after_sign_in_stays_inside_the_console()
    {
        foreach (var evil in new[] { "https://evil.example/", "//evil.example/", "/\\evil.example", "/_licensing/v1/tenants", "/_licensing/console/../v1", "/_licensing/console/%2e%2e/x" })
        {
            using var browser = fixture.Browser();
            using var steps = await browser.SignInAsync(new Uri(ConsoleBase, "signin?returnUrl=" + Uri.EscapeDataString(evil)), "alice");
            Assert.Equal(HttpStatusCode.Redirect, steps.Answer.StatusCode);
            Assert.Equal("/_licensing/console/", steps.Answer.Headers.Location!.OriginalString);
        }
    }

    private async Task<string> StoreStateAsync(string tenant)
    {
        var db = fixture.Redis.Connection.GetDatabase();
        var text = new StringBuilder();
        foreach (var key in TenantKeys.For(tenant))
        {
            text.Append(key).Append('=').Append(await Hostile.StoreSnapshot.ReadAsync(db, key)).Append('\n');
        }
        return text.ToString();
    }

    private static Dictionary<string, string> Query(Uri uri) =>
        uri.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries)
            .Select(p => p.Split('=', 2))
            .ToDictionary(p => p[0], p => Uri.UnescapeDataString((p.Length > 1 ? p[1] : "").Replace('+', ' ')));
}
