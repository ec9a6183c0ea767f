using Gateway.Licensing.Rules;
using Gateway.Management;
using Gateway.Tests.Hostile;
using Gateway.Tests.Support;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.Tokens;
using Xunit.Abstractions;

namespace Gateway.Tests.Security;

/// <summary>
/// Issue 5, item 6: bearer tokens never appear in the gateway's logs. Every log entry of the real
/// gateway on Kestrel is captured at Trace level (the most verbose: messages, structured values,
/// exceptions and scopes) while valid, expired, wrong-key, unsigned, tampered and malformed tokens
/// go through enforced, Off and Release routes and the management API; no entry may hold a token,
/// its signature, its payload or the signing key.
/// </summary>
public sealed class TokenLoggingTests(TokenLoggingTests.Fixture fixture, ITestOutputHelper output) : IClassFixture<TokenLoggingTests.Fixture>
{
    private const string Tenant = "logs";

    public sealed class Fixture : KestrelGatewayFixture
    {
        protected override void ConfigureGateway(GatewayFactory gateway) => gateway
            .WithTenant(Tenant, LicenseModel.ConcurrentSessions, 100)
            .WithTenant("logs-full", LicenseModel.ConcurrentSessions, 1)
            .WithTenant("logs-ru", LicenseModel.RegisteredUsers, 2, activeUsers: ["alice"]);
    }

    /// <summary>A token unique to this test run (its own jti), so that finding it in a log is never a coincidence.</summary>
    private static string Unique(Func<(string, object)[], string> mint) => mint([("jti", Guid.NewGuid().ToString("N"))]);

    [Fact]
    public async Task No_log_entry_at_any_level_holds_a_token_its_signature_its_payload_or_the_signing_key()
    {
        fixture.Logs.Clear();
        var operatorToken = Unique(c => TestTokens.User("ops", "olga", [("role", ManagementCaller.OperatorRole), .. c]));
        var adminOfOther = Unique(c => TestTokens.User("elsewhere", "erin", [("role", ManagementCaller.AdminRole), .. c]));
        var alice = Unique(c => TestTokens.User(Tenant, "alice", c));
        var first = Unique(c => TestTokens.User("logs-full", "fay", c));
        var second = Unique(c => TestTokens.User("logs-full", "gus", c)); // 429: fay holds the one seat
        var inactive = Unique(c => TestTokens.User("logs-ru", "ivan", c));
        var service = Unique(c => TestTokens.Create(new Dictionary<string, object> { ["tid"] = Tenant, ["client_id"] = "svc", ["jti"] = c[0].Item2 }));
        var expired = TestTokens.Expired(Tenant, "alice-" + Guid.NewGuid().ToString("N"));
        var wrongKey = TestTokens.WrongKey(Tenant, "alice-" + Guid.NewGuid().ToString("N"));
        var unsigned = TestTokens.Unsigned(Tenant, "alice-" + Guid.NewGuid().ToString("N"));
        var tampered = TestTokens.Tampered(Tenant, "alice-" + Guid.NewGuid().ToString("N"));
        var wrongAudience = TestTokens.WrongAudience(Tenant, "alice-" + Guid.NewGuid().ToString("N"));
        var truncated = alice[..(alice.Length - 10)];
        var garbage = "garbage-" + Guid.NewGuid().ToString("N") + new string('g', 200);
        var nonBase64 = alice.Replace('.', '!');
        var badClaims = Unique(c => TestTokens.User("{bad tenant}", "mallory", c));

        var tokens = new[] { operatorToken, adminOfOther, alice, first, second, inactive, service, expired, wrongKey, unsigned, tampered, wrongAudience, truncated, garbage, nonBase64, badClaims };
        foreach (var token in tokens)
        {
            foreach (var path in new[] { "/api/logged", "/open/logged", "/logout/logged" })
                await fixture.SendAsync(new RawRequest("GET", path).Bearer(token).Header("X-Device-Id", "dev-1"));
            await fixture.SendAsync(new RawRequest("GET", "/api/logged").Header("Authorization", "bearer " + token).Header("X-Client-Kind", "toaster"));
            await fixture.SendAsync(new RawRequest("GET", "/_licensing/v1/me/sessions").Bearer(token));
            await fixture.SendAsync(new RawRequest("GET", $"/_licensing/v1/tenants/{Tenant}/users").Bearer(token));
            await fixture.SendAsync(new RawRequest("PUT", $"/_licensing/v1/tenants/{Tenant}/users/carol").Bearer(token).Json("""{"active":true}"""));
            await fixture.SendAsync(new RawRequest("PUT", $"/_licensing/v1/tenants/{Tenant}").Bearer(token).Json("""{"model":"ConcurrentSessions","seatLimit":"x"}"""));
            await fixture.SendAsync(new RawRequest("DELETE", "/_licensing/v1/me/sessions/current").Bearer(token).Header("X-Device-Id", "dev-1"));
            // Twice, and next to a valid one: the joined header value is what the handler reads.
            await fixture.SendAsync(new RawRequest("GET", "/api/logged").Bearer(token).Bearer(alice));
        }
        // The answers were the expected ones (so the requests went where the logs are written).
        Assert.Equal(200, (await fixture.SendAsync(new RawRequest("GET", "/api/logged").Bearer(alice).Header("X-Device-Id", "dev-1"))).Status);
        Assert.Equal(200, (await fixture.SendAsync(new RawRequest("GET", "/api/logged").Bearer(first).Header("X-Device-Id", "dev-9"))).Status);
        Assert.Equal(429, (await fixture.SendAsync(new RawRequest("GET", "/api/logged").Bearer(second).Header("X-Device-Id", "dev-9"))).Status);
        Assert.Equal(403, (await fixture.SendAsync(new RawRequest("GET", "/api/logged").Bearer(inactive).Header("X-Device-Id", "dev-9"))).Status);
        Assert.Equal(401, (await fixture.SendAsync(new RawRequest("GET", "/api/logged").Bearer(wrongKey).Header("X-Device-Id", "dev-9"))).Status);
        Assert.Equal(200, (await fixture.SendAsync(new RawRequest("GET", $"/_licensing/v1/tenants/{Tenant}/users").Bearer(operatorToken))).Status);

        await Task.Delay(200); // entries written after the response (hosting's "Request finished")
        var entries = fixture.Logs.Entries;
        output.WriteLine($"{entries.Count} log entries, {entries.Count(e => e.Level <= LogLevel.Debug)} at Trace/Debug, from {entries.Select(e => e.Category).Distinct().Count()} categories");

        // The capture saw the verbose entries of authentication, the proxy and the gateway itself.
        Assert.Contains(entries, e => e.Level == LogLevel.Debug && e.Category.StartsWith("Microsoft.AspNetCore.Authentication", StringComparison.Ordinal));
        Assert.Contains(entries, e => e.Category.StartsWith("Microsoft.AspNetCore.Authentication", StringComparison.Ordinal) && e.Exception is not null);
        Assert.Contains(entries, e => e.Category.StartsWith("Yarp", StringComparison.Ordinal));
        Assert.Contains(entries, e => e.Category.StartsWith("Gateway", StringComparison.Ordinal));
        Assert.Contains(entries, e => e.Level == LogLevel.Trace);

        var secrets = new List<(string What, string Text)> { ("signing key", TestTokens.KeyBase64), ("signing key (base64url)", Base64UrlEncoder.Encode(TestTokens.Key)) };
        foreach (var token in tokens)
        {
            secrets.Add(("token", token));
            var parts = token.Split('.');
            if (parts.Length == 3)
            {
                if (parts[2].Length >= 16) secrets.Add(("signature", parts[2]));
                secrets.Add(("payload", parts[1]));
            }
        }
        foreach (var entry in entries)
        {
            var text = entry.AllText;
            foreach (var (what, secret) in secrets)
                Assert.False(text.Contains(secret, StringComparison.Ordinal), $"a {what} in the log: {entry}");
        }
    }

    [Fact]
    public async Task A_header_line_kestrel_rejects_is_logged_at_most_as_a_128_character_prefix_without_the_signature()
    {
        // Kestrel's own Debug entry for a malformed header line ("Invalid request header: '...'") quotes
        // up to 128 characters of the line: with a token, its algorithm header and the start of the
        // payload, never the signature or the whole token. The shipped appsettings.json logs
        // Microsoft.AspNetCore at Warning, so it is not written unless an operator turns Debug on.
        fixture.Logs.Clear();
        var token = Unique(c => TestTokens.User(Tenant, "dave", c));
        // A bare CR after the token (a NUL is logged without a quote).
        var response = await fixture.SendAsync(new RawRequest("GET", "/api/logged").Bearer(token + "\rX"));
        Assert.Equal(400, response.Status);

        var signature = token.Split('.')[2];
        var entries = fixture.Logs.Entries;
        var quoted = Assert.Single(entries, e => e.Category == "Microsoft.AspNetCore.Server.Kestrel.BadRequests" && e.Message.Contains("Invalid request header", StringComparison.Ordinal));
        output.WriteLine(quoted.Message);
        Assert.Equal(LogLevel.Debug, quoted.Level);
        Assert.All(entries, e =>
        {
            Assert.DoesNotContain(token, e.AllText, StringComparison.Ordinal);
            Assert.DoesNotContain(signature, e.AllText, StringComparison.Ordinal);
        });
    }
}

/// <summary>
/// At the shipped log levels (the shipped <c>appsettings.json</c>, not a test override), a burst of
/// traffic with tokens in headers and in query strings, a <c>client_secret</c> in a query, cookies, and
/// a backend that cannot be reached leaves no log entry with a token, a secret, a cookie, a query
/// string or a backend's address.
/// </summary>
public sealed class ShippedLogLevelTests(ShippedLogLevelTests.Fixture fixture, ITestOutputHelper output) : IClassFixture<ShippedLogLevelTests.Fixture>
{
    private const string Tenant = "shipped-logs";

    public sealed class Fixture : KestrelGatewayFixture
    {
        /// <summary>A loopback port nothing listens on: the destination of the <c>/dead</c> route.</summary>
        public int DeadPort { get; } = global::Gateway.Licensing.Tests.Infrastructure.FreePort.Get();

        protected override bool CaptureEveryLevel => false;

        protected override void ConfigureGateway(GatewayFactory gateway) => gateway
            .WithTenant(Tenant, LicenseModel.ConcurrentSessions, 100)
            .WithTenant("shipped-full", LicenseModel.ConcurrentSessions, 1)
            .With("ReverseProxy:Routes:dead:ClusterId", "dead")
            .With("ReverseProxy:Routes:dead:Match:Path", "/dead/{**rest}")
            .With("ReverseProxy:Routes:dead:Metadata:Licensing", "Off")
            .With("ReverseProxy:Clusters:dead:Destinations:d1:Address", $"http://127.0.0.1:{DeadPort}/");
    }

    private static string Unique(string what) => what + "-" + Guid.NewGuid().ToString("N");

    [Fact]
    public async Task No_entry_holds_a_token_secret_cookie_query_string_or_backend_address()
    {
        fixture.Logs.Clear();
        var alice = TestTokens.User(Tenant, "alice", ("jti", Unique("jti")));
        var operatorToken = TestTokens.User("ops", "olga", ("role", ManagementCaller.OperatorRole), ("jti", Unique("jti")));
        var first = TestTokens.User("shipped-full", "fay", ("jti", Unique("jti")));
        var second = TestTokens.User("shipped-full", "gus", ("jti", Unique("jti"))); // 429
        var wrongKey = TestTokens.WrongKey(Tenant, Unique("mallory"));
        var expired = TestTokens.Expired(Tenant, Unique("eve"));
        var secret = Unique("client-secret");
        var code = Unique("code");
        var cookie = Unique("cookie");
        var queryMarker = Unique("q");
        var tokens = new[] { alice, operatorToken, first, second, wrongKey, expired };

        foreach (var token in tokens)
        {
            foreach (var path in new[] { "/api/shipped", "/open/shipped", "/logout/shipped", "/dead/shipped" })
            {
                await fixture.SendAsync(new RawRequest("GET", path).Bearer(token).Header("X-Device-Id", "dev-1").Header("Cookie", $"erp-session={cookie}"));
                await fixture.SendAsync(new RawRequest("GET", $"{path}?access_token={token}&{queryMarker}=1").Header("X-Device-Id", "dev-1"));
            }
            await fixture.SendAsync(new RawRequest("GET", $"/api/shipped?{queryMarker}=1").Bearer(token).Header("X-Device-Id", "dev-9"));
            await fixture.SendAsync(new RawRequest("GET", $"/_licensing/v1/tenants/{Tenant}/users?{queryMarker}=1&access_token={token}").Bearer(token));
            await fixture.SendAsync(new RawRequest("PUT", $"/_licensing/v1/tenants/{Tenant}/users/carol?{queryMarker}=1").Bearer(token).Json("""{"active":true}"""));
        }
        foreach (var path in new[] { "/open/connect/token", "/dead/connect/token", "/api/connect/token" })
            await fixture.SendAsync(new RawRequest("GET", $"{path}?client_id=svc&client_secret={secret}&code={code}&{queryMarker}=1"));

        // The answers were the expected ones (so the requests went where the logs are written).
        Assert.Equal(200, (await fixture.SendAsync(new RawRequest("GET", $"/api/shipped?access_token={alice}").Bearer(alice).Header("X-Device-Id", "dev-1"))).Status);
        Assert.Equal(429, (await fixture.SendAsync(new RawRequest("GET", "/api/shipped").Bearer(second).Header("X-Device-Id", "dev-9"))).Status);
        Assert.Equal(502, (await fixture.SendAsync(new RawRequest("GET", $"/dead/x?client_secret={secret}"))).Status);
        Assert.Equal(200, (await fixture.SendAsync(new RawRequest("GET", $"/open/connect/token?client_secret={secret}"))).Status);

        await Task.Delay(200); // entries written after the response
        var entries = fixture.Logs.Entries;
        output.WriteLine($"{entries.Count} log entries at the shipped levels");
        foreach (var entry in entries.Take(30)) output.WriteLine(entry.ToString());
        // The shipped levels let the gateway's own Information entries through (a refusal burst here).
        Assert.Contains(entries, e => e.Category.StartsWith("Gateway", StringComparison.Ordinal) && e.Level == Microsoft.Extensions.Logging.LogLevel.Information);

        var forbidden = new List<(string What, string Text)>
        {
            ("client secret", secret), ("authorization code", code), ("cookie", cookie), ("query string", queryMarker),
            ("query string", "access_token="), ("query string", "client_secret="),
            ("backend address", fixture.Backend.BaseAddress.Authority), ("backend address", $"127.0.0.1:{fixture.DeadPort}"),
        };
        foreach (var token in tokens)
        {
            forbidden.Add(("token", token));
            forbidden.Add(("token signature", token.Split('.')[2]));
        }
        foreach (var entry in entries)
        {
            foreach (var (what, text) in forbidden)
                Assert.False(entry.AllText.Contains(text, StringComparison.Ordinal), $"a {what} in the log: {entry}\n{entry.AllText}");
        }
    }
}
