using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Gateway.Tests.Support;

namespace Gateway.Tests.Hostile;

/// <summary>
/// An HTTP/1.1 request written byte for byte: whatever header names, repetitions, values (CR, LF,
/// NUL, UTF-8, 200 kB) and request targets (dot segments, encoded slashes) a hostile client could
/// send, none of which <see cref="HttpClient"/> lets through unchanged.
/// </summary>
public sealed class RawRequest
{
    public RawRequest(string method, string target)
    {
        Method = method;
        Target = target;
    }

    public string Method { get; }

    /// <summary>The request target exactly as sent (no normalization, no escaping).</summary>
    public string Target { get; }

    public List<(string Name, string Value)> Headers { get; } = [];

    public byte[]? Body { get; private set; }

    public RawRequest Header(string name, string value)
    {
        Headers.Add((name, value));
        return this;
    }

    public RawRequest Bearer(string token) => Header("Authorization", "Bearer " + token);

    public RawRequest Json(string body) => JsonBytes(Encoding.UTF8.GetBytes(body));

    public RawRequest JsonBytes(byte[] body)
    {
        Body = body;
        return Header("Content-Type", "application/json");
    }

    /// <summary>The bytes on the wire: header values UTF-8 encoded as they are (a "\r\n" in a value is a raw CR LF).</summary>
    public byte[] ToBytes(string host)
    {
        var head = new StringBuilder();
        head.Append(Method).Append(' ').Append(Target).Append(" HTTP/1.1\r\n");
        head.Append("Host: ").Append(host).Append("\r\n");
        foreach (var (name, value) in Headers) head.Append(name).Append(": ").Append(value).Append("\r\n");
        if (Body is not null) head.Append("Content-Length: ").Append(Body.Length).Append("\r\n");
        head.Append("Connection: close\r\n\r\n");
        var bytes = Encoding.UTF8.GetBytes(head.ToString());
        return Body is null ? bytes : [.. bytes, .. Body];
    }

    public override string ToString() => $"{Method} {Printable.Shorten(Target)}";

}

/// <summary>What came back: status, headers and body, or nothing when the server closed without an answer.</summary>
public sealed class RawResponse
{
    private readonly List<(string Name, string Value)> _headers;

    private RawResponse(int status, List<(string, string)> headers, byte[] body, TimeSpan elapsed)
    {
        Status = status;
        _headers = headers;
        Body = body;
        Elapsed = elapsed;
    }

    /// <summary>0 when the connection closed without a complete status line.</summary>
    public int Status { get; }

    public byte[] Body { get; }

    public TimeSpan Elapsed { get; }

    public string BodyText => Encoding.UTF8.GetString(Body);

    public string? Header(string name)
    {
        var values = _headers.Where(h => string.Equals(h.Name, name, StringComparison.OrdinalIgnoreCase)).Select(h => h.Value).ToArray();
        return values.Length == 0 ? null : string.Join(", ", values);
    }

    public string? MediaType => Header("Content-Type")?.Split(';')[0].Trim();

    public bool IsProblem => MediaType == "application/problem+json";

    /// <summary>The problem's <c>code</c>, or null when the body is not a problem with a code.</summary>
    public string? ProblemCode
    {
        get
        {
            if (!IsProblem) return null;
            try
            {
                var json = JsonDocument.Parse(Body).RootElement;
                return json.TryGetProperty("code", out var code) && code.ValueKind == JsonValueKind.String ? code.GetString() : null;
            }
            catch (JsonException)
            {
                return null;
            }
        }
    }

    public bool IsBearerChallenge => Status == 401 && (Header("WWW-Authenticate")?.StartsWith("Bearer", StringComparison.Ordinal) ?? false);

    public override string ToString()
    {
        var body = BodyText;
        return $"{Status} {MediaType} {Printable.Shorten(body, 300)}";
    }

    internal static RawResponse Parse(byte[] bytes, TimeSpan elapsed)
    {
        var end = IndexOf(bytes, "\r\n\r\n"u8);
        if (end < 0) return new RawResponse(0, [], bytes, elapsed);
        var head = Encoding.Latin1.GetString(bytes, 0, end).Split("\r\n");
        var statusParts = head[0].Split(' ', 3);
        if (statusParts.Length < 2 || !int.TryParse(statusParts[1], out var status)) return new RawResponse(0, [], bytes, elapsed);
        var headers = new List<(string, string)>();
        foreach (var line in head.Skip(1))
        {
            var colon = line.IndexOf(':');
            if (colon > 0) headers.Add((line[..colon].Trim(), line[(colon + 1)..].Trim()));
        }
        var body = bytes[(end + 4)..];
        if (headers.Any(h => h.Item1.Equals("Transfer-Encoding", StringComparison.OrdinalIgnoreCase) && h.Item2.Contains("chunked", StringComparison.OrdinalIgnoreCase)))
            body = Dechunk(body);
        return new RawResponse(status, headers, body, elapsed);
    }

    private static byte[] Dechunk(byte[] body)
    {
        var output = new MemoryStream();
        var position = 0;
        while (position < body.Length)
        {
            var lineEnd = IndexOf(body.AsSpan(position), "\r\n"u8);
            if (lineEnd < 0) break;
            var sizeText = Encoding.ASCII.GetString(body, position, lineEnd).Split(';')[0];
            if (!int.TryParse(sizeText, System.Globalization.NumberStyles.HexNumber, null, out var size) || size == 0) break;
            position += lineEnd + 2;
            output.Write(body, position, Math.Min(size, body.Length - position));
            position += size + 2;
        }
        return output.ToArray();
    }

    private static int IndexOf(ReadOnlySpan<byte> haystack, ReadOnlySpan<byte> needle) => haystack.IndexOf(needle);
}

/// <summary>Sends a <see cref="RawRequest"/> on a fresh TCP connection and reads the answer until the server closes.</summary>
public static class RawHttp
{
    /// <summary>No answer within this time counts as a hang.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    /// <param name="host">The Host header to send; default: the server's address.</param>
    public static async Task<RawResponse> SendAsync(Uri server, RawRequest request, string? host = null)
    {
        var elapsed = Stopwatch.StartNew();
        using var cts = new CancellationTokenSource(Timeout);
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(new IPEndPoint(IPAddress.Parse(server.Host), server.Port), cts.Token);
        await using var stream = new NetworkStream(socket, ownsSocket: false);

        // Write and read at once: the server may answer (431, 400) and close before it read everything.
        var bytes = request.ToBytes(host ?? $"{server.Host}:{server.Port}");
        var write = Task.Run(async () =>
        {
            try
            {
                await stream.WriteAsync(bytes, cts.Token);
                await stream.FlushAsync(cts.Token);
            }
            catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException)
            {
                // The server stopped reading; what it answered is read below.
            }
        });

        var received = new MemoryStream();
        var buffer = new byte[64 * 1024];
        try
        {
            int read;
            while ((read = await stream.ReadAsync(buffer, cts.Token)) > 0) received.Write(buffer, 0, read);
        }
        catch (OperationCanceledException) when (cts.IsCancellationRequested)
        {
            throw new TimeoutException($"{request}: no complete answer within {Timeout.TotalSeconds} s (received {received.Length} bytes)");
        }
        catch (IOException)
        {
            // A reset after the answer (the server closed with unread request bytes): keep what arrived.
        }
        await write;
        return RawResponse.Parse(received.ToArray(), elapsed.Elapsed);
    }
}
