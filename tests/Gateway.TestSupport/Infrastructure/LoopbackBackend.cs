using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Gateway.Tests.Infrastructure;

/// <summary>
/// A real HTTP backend on a free loopback port (Kestrel), to put behind the gateway in tests.
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item><c>/status/{code}</c> (200–599) answers with that status code.</item>
/// <item><c>/delay/{ms}</c> waits that long (at most 60 s, or until the request is aborted), then echoes.</item>
/// <item>Any other path answers 200 with JSON <c>{ "path", "method", "query", "headers": { name: value } }</c>
/// describing the request it received (multi-valued headers joined with <c>", "</c>).</item>
/// </list>
/// Every request is recorded in <see cref="Received"/> (in arrival order) before it is answered.
/// </remarks>
public sealed class LoopbackBackend : IAsyncLifetime, IAsyncDisposable
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private readonly ConcurrentQueue<ReceivedRequest> _received = new();
    private LoopbackServer? _server;

    /// <summary><c>http://127.0.0.1:{port}/</c> of the running backend.</summary>
    public Uri BaseAddress { get; private set; } = null!;

    /// <summary>Requests received so far, oldest first (a snapshot).</summary>
    public IReadOnlyList<ReceivedRequest> Received => _received.ToArray();

    /// <summary>Forgets the requests received so far.</summary>
    public void Clear() => _received.Clear();

    public async Task InitializeAsync()
    {
        _server = await LoopbackServer.StartAsync(HandleAsync);
        BaseAddress = _server.BaseAddress;
    }

    private async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        string body;
        using (var reader = new StreamReader(request.Body))
        {
            body = await reader.ReadToEndAsync(context.RequestAborted);
        }

        var headers = request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase);
        var path = request.PathBase.Add(request.Path).Value ?? "/";
        _received.Enqueue(new ReceivedRequest(request.Method, path, request.QueryString.Value ?? "", headers, body, DateTimeOffset.UtcNow));

        var response = context.Response;
        var segments = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (segments is ["status", var code])
        {
            response.StatusCode = int.TryParse(code, out var status) && status is >= 200 and <= 599 ? status : StatusCodes.Status400BadRequest;
            if (response.StatusCode is StatusCodes.Status204NoContent or StatusCodes.Status304NotModified)
            {
                return;
            }
        }
        else
        {
            if (segments is ["delay", var ms, ..] && int.TryParse(ms, out var delay))
            {
                try
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(Math.Clamp(delay, 0, 60_000)), context.RequestAborted);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
            response.StatusCode = StatusCodes.Status200OK;
        }

        response.ContentType = "application/json; charset=utf-8";
        await JsonSerializer.SerializeAsync(
            response.Body,
            new EchoResponse(path, request.Method, request.QueryString.Value ?? "", headers),
            Json,
            context.RequestAborted);
    }

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
            _server = null;
        }
    }

    ValueTask IAsyncDisposable.DisposeAsync() => new(DisposeAsync());

    private sealed record EchoResponse(string Path, string Method, string Query, IReadOnlyDictionary<string, string> Headers);
}

/// <summary>A request as the backend saw it. <see cref="Headers"/> is case-insensitive.</summary>
public sealed record ReceivedRequest(
    string Method,
    string Path,
    string QueryString,
    IReadOnlyDictionary<string, string> Headers,
    string Body,
    DateTimeOffset ReceivedAt)
{
    /// <summary>The value of header <paramref name="name"/>, or null when absent.</summary>
    public string? Header(string name) => Headers.TryGetValue(name, out var value) ? value : null;
}

/// <summary>The JSON body the backend answers with (for deserializing in tests).</summary>
public sealed record EchoedRequest(string Path, string Method, string Query, Dictionary<string, string> Headers);
