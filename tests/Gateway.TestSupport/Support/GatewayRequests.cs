using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;

namespace Gateway.Tests.Support;

/// <summary>Small helpers to build gateway requests and read its problem answers.</summary>
public static class GatewayRequests
{
    public const string DesktopAgent = "ErpDesktop/12.0";
    public const string BrowserAgent = "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0";

    public static HttpRequestMessage Get(string path, string? token = null, string? device = "d1", string userAgent = DesktopAgent)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (token is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        if (device is not null) request.Headers.Add("X-Device-Id", device);
        request.Headers.TryAddWithoutValidation("User-Agent", userAgent);
        return request;
    }

    public static HttpRequestMessage WithHeader(this HttpRequestMessage request, string name, string value)
    {
        request.Headers.TryAddWithoutValidation(name, value);
        return request;
    }

    /// <summary>Asserts a problem+json answer with <paramref name="status"/> and <paramref name="code"/>; returns its body.</summary>
    public static async Task<JsonElement> AssertProblemAsync(this HttpResponseMessage response, HttpStatusCode status, string code)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"Expected {(int)status}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var json = JsonDocument.Parse(body).RootElement;
        Assert.Equal(code, json.GetProperty("code").GetString());
        Assert.Equal((int)status, json.GetProperty("status").GetInt32());
        Assert.False(string.IsNullOrEmpty(json.GetProperty("type").GetString()));
        Assert.False(string.IsNullOrEmpty(json.GetProperty("title").GetString()));
        Assert.False(string.IsNullOrEmpty(json.GetProperty("detail").GetString()));
        return json;
    }

    public static async Task AssertForwardedAsync(this HttpResponseMessage response)
    {
        if (response.StatusCode != HttpStatusCode.OK)
            Assert.Fail($"Expected the request to be forwarded (200), got {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
    }

    public static string? Header(this HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? string.Join(", ", values) : null;
}
