using System.Net;
using System.Text.Json;

namespace Gateway.Tests.Support;

/// <summary>What the loopback backend echoed: the request it received through the gateway.</summary>
public sealed class Echo
{
    private readonly Dictionary<string, string> _headers;

    private Echo(string path, Dictionary<string, string> headers)
    {
        Path = path;
        _headers = headers;
    }

    public string Path { get; }

    public string? Header(string name) => _headers.TryGetValue(name, out var value) ? value : null;

    public IEnumerable<string> HeaderNames => _headers.Keys;

    /// <summary>Asserts the request was forwarded (200 from the echo backend) and reads the echo.</summary>
    public static async Task<Echo> ReadAsync(HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"Expected the request to be forwarded (200), got {(int)response.StatusCode}: {body}");
        var json = JsonDocument.Parse(body).RootElement;
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var header in json.GetProperty("headers").EnumerateObject()) headers[header.Name] = header.Value.GetString() ?? "";
        return new Echo(json.GetProperty("path").GetString() ?? "", headers);
    }
}
