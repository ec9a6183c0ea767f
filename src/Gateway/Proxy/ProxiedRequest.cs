using Gateway.Licensing.Sessions;
using Microsoft.AspNetCore.Http.Features;

namespace Gateway.Proxy;

/// <summary>
/// A request forwarded on an admitted session, as the <see cref="SessionUseTracker"/> sees it: open until
/// its response completed (for a WebSocket or a streaming response, until it closed), and closed by
/// aborting it when its session ends: an upgrade request (WebSocket over HTTP/1.1, or HTTP/2's extended
/// CONNECT) at once, any other after a short grace in which an ordinary call completes by itself.
/// </summary>
internal sealed class ProxiedRequest(HttpContext context, SessionUseTracker tracker)
    : SessionUse(closesAtOnce: IsUpgrade(context))
{
    /// <summary>For <c>HttpResponse.OnCompleted</c>: runs once the response has been sent in full (or the connection has gone).</summary>
    public static readonly Func<object, Task> OnCompleted = static state =>
    {
        var request = (ProxiedRequest)state;
        request._tracker.Closed(request);
        return Task.CompletedTask;
    };

    private readonly SessionUseTracker _tracker = tracker;

    private static bool IsUpgrade(HttpContext context) =>
        context.Features.Get<IHttpUpgradeFeature>()?.IsUpgradableRequest == true
        || context.Features.Get<IHttpExtendedConnectFeature>()?.IsExtendedConnect == true;

    /// <summary>
    /// Aborts the client's connection (HTTP/1.1, including an upgraded WebSocket) or stream (HTTP/2):
    /// YARP's forwarding then ends, and with it the backend side. No WebSocket close frame can be sent:
    /// YARP relays the upgraded bytes as they are, and a frame of the gateway's own would corrupt them.
    /// </summary>
    protected override void OnAbort() => context.Abort();
}
