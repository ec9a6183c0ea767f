using Gateway.Licensing.Identity;
using Gateway.Licensing.Sessions;
using Gateway.Licensing.Store;

namespace Gateway.Proxy;

/// <summary>
/// On a <c>Release</c> route (e.g. logout): ends the caller's session when the backend answered
/// 2xx/3xx, before the response headers reach the client.
/// </summary>
internal sealed partial class SessionRelease(HttpContext context, SessionIdentity identity, ISessionAdmitter admitter, ILogger logger)
{
    public static readonly Func<object, Task> OnResponseStarting = static state => ((SessionRelease)state).ReleaseIfSuccessfulAsync();

    private async Task ReleaseIfSuccessfulAsync()
    {
        var status = context.Response.StatusCode;
        if (status is < 200 or >= 400)
        {
            LogKept(logger, identity.Tenant, status);
            return;
        }
        try
        {
            var ended = await admitter.ReleaseAsync(identity).ConfigureAwait(false);
            LogReleased(logger, identity.Tenant, ended);
        }
        catch (StoreUnavailableException ex)
        {
            // The backend's answer still goes out; the session idles out instead.
            LogReleaseFailed(logger, identity.Tenant, ex);
        }
    }

    [LoggerMessage(EventId = 2010, Level = LogLevel.Debug, Message = "Release route answered {Status}; session of tenant {Tenant} kept")]
    private static partial void LogKept(ILogger logger, string tenant, int status);

    [LoggerMessage(EventId = 2011, Level = LogLevel.Debug, Message = "Release route: session of tenant {Tenant} ended (it existed: {Ended})")]
    private static partial void LogReleased(ILogger logger, string tenant, bool ended);

    [LoggerMessage(EventId = 2012, Level = LogLevel.Warning, Message = "Release route: could not end the session of tenant {Tenant}; the store is unavailable, it will idle out")]
    private static partial void LogReleaseFailed(ILogger logger, string tenant, Exception exception);
}
