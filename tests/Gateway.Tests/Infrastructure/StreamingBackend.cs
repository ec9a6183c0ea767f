using System.Collections.Concurrent;
using System.Net.WebSockets;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Gateway.Tests.Infrastructure;

/// <summary>
/// A real backend with long-lived answers, on a free loopback port (Kestrel), to put behind the gateway:
/// <list type="bullet">
/// <item>a path ending in <c>/ws</c> accepts a WebSocket and echoes every text message until either side closes;</item>
/// <item>a path ending in <c>/stream</c> answers <c>text/event-stream</c>, one event every <c>?ms=</c> milliseconds
/// (default 500) for <c>?count=</c> events (default: until the client goes away);</item>
/// <item>any other path answers 200 at once.</item>
/// </list>
/// Every request is recorded in <see cref="Received"/> with the session the gateway forwarded it under and
/// when it arrived; <see cref="Ended"/> records when a long-lived answer ended on the backend's side.
/// </summary>
public sealed class StreamingBackend : IAsyncLifetime, IAsyncDisposable
{
    private readonly ConcurrentQueue<BackendRequest> _received = new();
    private readonly ConcurrentQueue<BackendRequest> _ended = new();
    private LoopbackServer? _server;

    public Uri BaseAddress { get; private set; } = null!;

    public IReadOnlyList<BackendRequest> Received => _received.ToArray();

    /// <summary>Long-lived answers (WebSockets, streams) that have ended, with when (<see cref="BackendRequest.At"/>).</summary>
    public IReadOnlyList<BackendRequest> Ended => _ended.ToArray();

    public async Task InitializeAsync()
    {
        _server = await LoopbackServer.StartAsync(HandleAsync, app => app.UseWebSockets());
        BaseAddress = _server.BaseAddress;
    }

    private async Task HandleAsync(HttpContext context)
    {
        var path = context.Request.Path.Value ?? "/";
        var request = new BackendRequest(path, context.Request.Headers["X-Licensing-Session"].ToString(), DateTimeOffset.UtcNow);
        _received.Enqueue(request);

        if (path.EndsWith("/ws", StringComparison.Ordinal) && context.WebSockets.IsWebSocketRequest)
        {
            try
            {
                using var socket = await context.WebSockets.AcceptWebSocketAsync();
                await EchoAsync(socket, context.RequestAborted);
            }
            finally
            {
                _ended.Enqueue(request with { At = DateTimeOffset.UtcNow });
            }
            return;
        }

        if (path.EndsWith("/stream", StringComparison.Ordinal))
        {
            var interval = int.TryParse(context.Request.Query["ms"], out var ms) ? ms : 500;
            var count = int.TryParse(context.Request.Query["count"], out var c) ? c : int.MaxValue;
            context.Response.ContentType = "text/event-stream";
            try
            {
                await context.Response.StartAsync(context.RequestAborted);
                for (var i = 0; i < count && !context.RequestAborted.IsCancellationRequested; i++)
                {
                    await context.Response.WriteAsync($"data: {i}\n\n", context.RequestAborted);
                    await context.Response.Body.FlushAsync(context.RequestAborted);
                    await Task.Delay(interval, context.RequestAborted);
                }
            }
            catch (Exception e) when (e is OperationCanceledException or IOException)
            {
                // the client (or the gateway) went away
            }
            finally
            {
                _ended.Enqueue(request with { At = DateTimeOffset.UtcNow });
            }
            return;
        }

        context.Response.StatusCode = StatusCodes.Status200OK;
        await context.Response.WriteAsync("ok");
    }

    private static async Task EchoAsync(WebSocket socket, CancellationToken aborted)
    {
        var buffer = new byte[4096];
        try
        {
            while (true)
            {
                var result = await socket.ReceiveAsync(buffer, aborted);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "bye", CancellationToken.None);
                    return;
                }
                await socket.SendAsync(buffer.AsMemory(0, result.Count), result.MessageType, result.EndOfMessage, aborted);
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or IOException)
        {
            // the peer went away
        }
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

    /// <summary>Reads one text message, or null when the socket closed or failed.</summary>
    public static async Task<string?> ReceiveTextAsync(WebSocket socket, CancellationToken cancellationToken)
    {
        var buffer = new byte[4096];
        try
        {
            var result = await socket.ReceiveAsync(buffer, cancellationToken);
            return result.MessageType == WebSocketMessageType.Close ? null : Encoding.UTF8.GetString(buffer, 0, result.Count);
        }
        catch (Exception e) when (e is WebSocketException or IOException)
        {
            return null;
        }
    }
}

/// <summary>A request as the streaming backend saw it: its path, the session the gateway forwarded it under, and a time.</summary>
public sealed record BackendRequest(string Path, string Session, DateTimeOffset At);
