using System.Net;
using System.Text.Json;

namespace Gateway.Tests.SeatConsole;

/// <summary>
/// What a browser does in a console sign-in, without a browser: a cookie jar (paths and hosts as browsers
/// keep them; ports are not part of a cookie's scope, so replicas on one host share cookies as behind a
/// load balancer) and redirects followed by hand, across the gateway and the identity provider.
/// </summary>
public sealed class ConsoleBrowser : IDisposable
{
    private readonly Func<Uri, HttpMessageInvoker> _route;
    private readonly HttpClient _network = new(new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false });

    /// <param name="route">The client for a URI (e.g. a test server's); null: the real network.</param>
    public ConsoleBrowser(Func<Uri, HttpMessageInvoker?>? route = null)
    {
        _route = uri => route?.Invoke(uri) ?? _network;
    }

    public CookieContainer Cookies { get; } = new();

    /// <summary>Every response's Set-Cookie header lines, in order, for asserting cookie attributes.</summary>
    public List<(Uri Uri, string SetCookie)> SetCookies { get; } = [];

    public async Task<HttpResponseMessage> SendAsync(HttpMethod method, Uri uri, Action<HttpRequestMessage>? configure = null)
    {
        using var request = new HttpRequestMessage(method, uri);
        var cookies = Cookies.GetCookieHeader(uri);
        if (cookies.Length > 0) request.Headers.Add("Cookie", cookies);
        configure?.Invoke(request);
        var response = await _route(uri).SendAsync(request, CancellationToken.None);
        if (response.Headers.TryGetValues("Set-Cookie", out var values))
        {
            foreach (var value in values)
            {
                SetCookies.Add((uri, value));
                Cookies.SetCookies(uri, value);
            }
        }
        return response;
    }

    public Task<HttpResponseMessage> GetAsync(Uri uri) => SendAsync(HttpMethod.Get, uri);

    /// <summary>
    /// Signs in at <paramref name="signIn"/> as <paramref name="user"/> (the provider signs in the
    /// <c>login_hint</c> at once): the console's redirect to the provider, the provider's redirect back with
    /// the code, the console's answer. Returns the steps, the last one being the console's answer to the
    /// callback (302 to the console when the sign-in worked).
    /// </summary>
    public async Task<SignInSteps> SignInAsync(Uri signIn, string user)
    {
        using var start = await GetAsync(signIn);
        Assert.True(start.StatusCode == HttpStatusCode.Redirect, $"sign-in start: {(int)start.StatusCode} {await start.Content.ReadAsStringAsync()}");
        var authorize = Absolute(signIn, start.Headers.Location!);
        var withHint = new Uri(authorize.AbsoluteUri + "&login_hint=" + Uri.EscapeDataString(user));
        using var atProvider = await GetAsync(withHint);
        Assert.True(atProvider.StatusCode == HttpStatusCode.Redirect, $"provider: {(int)atProvider.StatusCode} {await atProvider.Content.ReadAsStringAsync()}");
        var callback = Absolute(withHint, atProvider.Headers.Location!);
        var done = await GetAsync(callback);
        return new SignInSteps(authorize, callback, done);
    }

    /// <summary><c>console/me</c> as JSON, asserting 200.</summary>
    public async Task<JsonElement> MeAsync(Uri consoleBase)
    {
        using var response = await GetAsync(new Uri(consoleBase, "me"));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"console/me: {(int)response.StatusCode} {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    private static Uri Absolute(Uri from, Uri location) => location.IsAbsoluteUri ? location : new Uri(from, location);

    public void Dispose() => _network.Dispose();
}

/// <summary>The steps of one sign-in: the provider's authorization request, the callback, the console's answer to it.</summary>
public sealed record SignInSteps(Uri Authorize, Uri Callback, HttpResponseMessage Answer) : IDisposable
{
    public void Dispose() => Answer.Dispose();
}
