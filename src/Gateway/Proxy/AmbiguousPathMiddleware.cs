using System.Buffers;
using Gateway.Management;
using Gateway.Problems;

namespace Gateway.Proxy;

/// <summary>
/// Refuses, before routing, a request whose path a backend could read differently from the gateway:
/// routing (and so the route's <c>Licensing</c> mode) follows the gateway's reading, and a backend that
/// takes <c>\</c> for a separator, drops a <c>;</c> path parameter (<c>..;</c> as <c>..</c>) or decodes
/// once more would serve another resource, e.g. <c>/id/..%5Capi/data</c> reaching <c>/api/data</c>
/// through an <c>Off</c> route with no token and no seat. Kestrel has already decoded the path (except
/// <c>%2F</c>) and removed its dot segments; what is refused is what is left:
/// <list type="bullet">
/// <item>a backslash or a <c>;</c>, raw or encoded;</item>
/// <item>an encoded <c>\</c>, <c>;</c> or <c>.</c> still in the decoded path (sent encoded twice);</item>
/// <item>a <c>.</c> or <c>..</c> segment, counting <c>%2F</c> as a separator.</item>
/// </list>
/// Paths under the management path are answered by the gateway itself, never forwarded, and keep
/// their own validation. Per request, a scan of the path for four characters; no allocation.
/// </summary>
internal sealed partial class AmbiguousPathMiddleware(RequestDelegate next, ManagementPath managementPath, ILogger<AmbiguousPathMiddleware> logger)
{
    private static readonly SearchValues<char> Suspicious = SearchValues.Create("\\;%.");

    public Task InvokeAsync(HttpContext context)
    {
        var path = context.Request.Path;
        if (!IsAmbiguous(path.Value) || managementPath.Contains(path)) return next(context);

        LogRefused();
        return LicensingProblems.InvalidPath(context);
    }

    internal static bool IsAmbiguous(ReadOnlySpan<char> path)
    {
        if (path.IndexOfAny(Suspicious) < 0) return false;
        if (path.IndexOfAny('\\', ';') >= 0) return true;
        if (path.Contains("%5C", StringComparison.OrdinalIgnoreCase)
            || path.Contains("%3B", StringComparison.OrdinalIgnoreCase)
            || path.Contains("%2E", StringComparison.OrdinalIgnoreCase)) return true;
        return HasDotSegment(path);
    }

    /// <summary>A <c>.</c> or <c>..</c> segment, with <c>/</c> and <c>%2F</c> as separators.</summary>
    private static bool HasDotSegment(ReadOnlySpan<char> path)
    {
        var start = 0;
        for (var i = 0; i <= path.Length; i++)
        {
            int separator;
            if (i == path.Length || path[i] == '/') separator = 1;
            else if (path[i] == '%' && i + 2 < path.Length && path[i + 1] == '2' && (path[i + 2] | 0x20) == 'f') separator = 3;
            else continue;

            if (path[start..i] is "." or "..") return true;
            start = i + separator;
            i += separator - 1;
        }
        return false;
    }

    [LoggerMessage(EventId = 2030, Level = LogLevel.Debug, Message = "Request path a backend could read differently (encoded backslash, ';' or dot segment); answering 400 invalid-path")]
    private partial void LogRefused();
}
