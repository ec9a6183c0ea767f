using Gateway.Licensing.Identity;
using Gateway.Licensing.Store;
using Gateway.Licensing.Telemetry;
using Microsoft.Extensions.Logging;

namespace Gateway.Licensing.Sessions;

/// <summary>
/// The sharing signal: a live session used from a second origin (client address or User-Agent) is
/// reported once, as <c>licensing.session.shared</c> and an audit entry <c>session-shared</c>; never
/// refused, since addresses change legitimately (roaming, NAT). The store compares origins when a
/// replica asks it about a session; a session this replica serves from its cache is compared here,
/// against the origin it was admitted from, so the common path costs one comparison of two numbers.
/// </summary>
internal sealed partial class SessionSharing
{
    private readonly LicenseStore _store;
    private readonly LicensingMetrics _metrics;
    private readonly ILogger<SessionSharing> _logger;

    public SessionSharing(LicenseStore store, LicensingMetrics metrics, ILogger<SessionSharing> logger)
    {
        _store = store;
        _metrics = metrics;
        _logger = logger;
    }

    /// <summary>A use of a cached session from an origin other than the one it was admitted from.</summary>
    public void OnOtherOrigin(in SessionIdentity identity, string sessionId, LocalSessionCache.Entry entry, long origin)
    {
        if (Interlocked.CompareExchange(ref entry.Origin, origin, 0) == 0) return;
        if (Interlocked.CompareExchange(ref entry.SecondOriginSeen, 1, 0) != 0) return;
        _ = ReportAsync(identity.Tenant, identity.ClientKind, sessionId, entry);
    }

    /// <summary>The store reported the session as shared while admitting it.</summary>
    public void OnReportedByStore(ClientKind kind) => _metrics.SessionShared(kind);

    private async Task ReportAsync(string tenant, ClientKind kind, string sessionId, LocalSessionCache.Entry entry)
    {
        try
        {
            if (await _store.ReportSharedAsync(tenant, sessionId).ConfigureAwait(false))
            {
                _metrics.SessionShared(kind);
                LogShared(tenant);
            }
        }
        catch (Exception ex) when (ex is StoreUnavailableException or StackExchange.Redis.RedisException)
        {
            // Nobody awaits this report: tried again at the session's next use from another origin.
            Volatile.Write(ref entry.SecondOriginSeen, 0);
            LogReportFailed(tenant, ex);
        }
    }

    [LoggerMessage(EventId = 1030, Level = LogLevel.Debug, Message = "A session of tenant {Tenant} was used from a second client address or User-Agent")]
    private partial void LogShared(string tenant);

    [LoggerMessage(EventId = 1031, Level = LogLevel.Debug, Message = "Could not report a shared session of tenant {Tenant}")]
    private partial void LogReportFailed(string tenant, Exception exception);
}
