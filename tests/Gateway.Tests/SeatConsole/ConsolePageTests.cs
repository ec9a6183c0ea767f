using System.Net;
using System.Net.Http.Headers;
using System.Text.RegularExpressions;
using Gateway.SeatConsole;
using Gateway.Tests.Support;

namespace Gateway.Tests.SeatConsole;

/// <summary>
/// The console's page as the gateway serves it (no browser): every file embedded and served under
/// <c>{ManagementPath}/console/</c> with its content type, the strict Content-Security-Policy, an ETag
/// answered by 304, nothing fetched from elsewhere, and nothing served while the console is off.
/// </summary>
public sealed class ConsolePageTests(ConsolePageTests.Fixture fixture) : IClassFixture<ConsolePageTests.Fixture>
{
    public sealed class Fixture : GatewayFixture
    {
        protected override void Configure(GatewayFactory gateway) => ConsoleSettings.Enable(gateway, new Uri("http://127.0.0.1:9/"));
    }

    private const string Root = "/_licensing/console/";

    [Theory]
    [InlineData("", "text/html")]
    [InlineData("app.js", "text/javascript")]
    [InlineData("api.js", "text/javascript")]
    [InlineData("chart.js", "text/javascript")]
    [InlineData("console.css", "text/css")]
    public async Task Each_file_is_served_with_its_type_and_the_strict_policy(string file, string mediaType)
    {
        using var response = await fixture.Client.GetAsync(Root + file);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(mediaType, response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("utf-8", response.Content.Headers.ContentType?.CharSet);
        var csp = Assert.Single(response.Headers.GetValues("Content-Security-Policy"));
        Assert.Equal(ConsolePage.ContentSecurityPolicy, csp);
        Assert.Contains("default-src 'none'", csp);
        Assert.Contains("script-src 'self'", csp);
        Assert.DoesNotContain("unsafe-inline", csp);
        Assert.DoesNotContain("unsafe-eval", csp);
        Assert.Contains("frame-ancestors 'none'", csp);
        Assert.Equal("nosniff", Assert.Single(response.Headers.GetValues("X-Content-Type-Options")));
        Assert.True(response.Headers.CacheControl?.NoCache, "the page is revalidated on every load");
        Assert.NotNull(response.Headers.ETag);
        Assert.False(response.Headers.ETag!.IsWeak);
        Assert.True((await response.Content.ReadAsByteArrayAsync()).Length > 100);
    }

    [Theory]
    [InlineData("")]
    [InlineData("app.js")]
    [InlineData("console.css")]
    public async Task An_unchanged_file_is_answered_304_with_no_body(string file)
    {
        using var first = await fixture.Client.GetAsync(Root + file);
        var etag = first.Headers.ETag!;

        using var again = new HttpRequestMessage(HttpMethod.Get, Root + file);
        again.Headers.IfNoneMatch.Add(etag);
        using var notModified = await fixture.Client.SendAsync(again);
        Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);
        Assert.Empty(await notModified.Content.ReadAsByteArrayAsync());
        Assert.Equal(etag, notModified.Headers.ETag);

        using var stale = new HttpRequestMessage(HttpMethod.Get, Root + file);
        stale.Headers.IfNoneMatch.Add(new EntityTagHeaderValue("\"something-else\""));
        using var changed = await fixture.Client.SendAsync(stale);
        Assert.Equal(HttpStatusCode.OK, changed.StatusCode);
    }

    [Fact]
    public async Task Files_differ_in_their_etags()
    {
        var tags = new HashSet<string>();
        foreach (var file in ConsolePage.FileNames)
        {
            using var response = await fixture.Client.GetAsync(Root + (file == "index.html" ? "" : file));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.True(tags.Add(response.Headers.ETag!.Tag), $"{file} shares its ETag");
        }
    }

    [Fact]
    public async Task The_console_without_its_slash_redirects_to_the_page()
    {
        using var response = await fixture.Client.GetAsync("/_licensing/console");
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal(Root, response.Headers.Location?.OriginalString);
    }

    [Fact]
    public async Task Every_file_the_page_names_is_served_by_the_gateway_and_nothing_comes_from_elsewhere()
    {
        var named = new HashSet<string>(StringComparer.Ordinal);
        foreach (var file in ConsolePage.FileNames)
        {
            var text = await fixture.Client.GetStringAsync(Root + (file == "index.html" ? "" : file));
            Assert.DoesNotMatch(new Regex(@"(src|href)\s*=\s*""(https?:)?//", RegexOptions.IgnoreCase), text);
            Assert.DoesNotMatch(new Regex(@"(import|from)\s*['""](https?:)?//", RegexOptions.IgnoreCase), text);
            Assert.DoesNotMatch(new Regex(@"\sstyle\s*=|<style|onclick\s*=|<script>", RegexOptions.IgnoreCase), text);
            foreach (Match m in Regex.Matches(text, @"(?:src|href)=""([a-z0-9-]+\.(?:js|css))""|from '\./([a-z0-9-]+\.js)'"))
                named.Add(m.Groups[1].Success ? m.Groups[1].Value : m.Groups[2].Value);
        }
        Assert.Contains("app.js", named);
        Assert.Contains("console.css", named);
        foreach (var file in named)
        {
            using var response = await fixture.Client.GetAsync(Root + file);
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{file}: {response.StatusCode}");
        }
    }

    [Fact]
    public async Task A_head_request_has_the_headers_and_no_body()
    {
        using var response = await fixture.Client.SendAsync(new HttpRequestMessage(HttpMethod.Head, Root + "app.js"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.NotNull(response.Headers.ETag);
        Assert.Empty(await response.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task An_unknown_file_under_the_console_is_not_found()
    {
        using var response = await fixture.Client.GetAsync(Root + "secrets.json");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }
}

/// <summary><c>Licensing:Console:Enabled</c> false (the default): no page, no file of it; the path is an unknown management path.</summary>
public sealed class ConsoleDisabledPageTests(ConsoleDisabledPageTests.Fixture fixture) : IClassFixture<ConsoleDisabledPageTests.Fixture>
{
    public sealed class Fixture : GatewayFixture
    {
        protected override void Configure(GatewayFactory gateway) { }
    }

    [Theory]
    [InlineData("/_licensing/console")]
    [InlineData("/_licensing/console/")]
    [InlineData("/_licensing/console/app.js")]
    [InlineData("/_licensing/console/console.css")]
    public async Task Nothing_of_the_console_is_served(string path)
    {
        using var response = await fixture.Client.GetAsync(path);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("\"not-found\"", await response.Content.ReadAsStringAsync());
        Assert.False(response.Headers.Contains("Content-Security-Policy"));
    }
}

/// <summary>The configuration that turns the console on in tests.</summary>
internal static class ConsoleSettings
{
    public const string ClientId = Infrastructure.OidcProvider.WebClientId;

    /// <summary>Turns the console on, signing in at <paramref name="authority"/> (which need not answer unless someone signs in).</summary>
    public static GatewayFactory Enable(GatewayFactory gateway, Uri authority) => gateway
        .With("Licensing:Console:Enabled", "true")
        .With("Licensing:Console:Authority", authority.AbsoluteUri)
        .With("Licensing:Console:ClientId", ClientId)
        .With("Licensing:Console:ClientSecret", Infrastructure.OidcProvider.ClientSecret)
        .With("Licensing:Console:RequireHttpsMetadata", "false");
}
