namespace Gateway.Management;

/// <summary>
/// One Information line per admin change made through the management API: who (the audit actor),
/// which tenant, what (the audit action) and whom (user ids or the session id). Never a token. The
/// audit trail in the store keeps the same facts; this line is for the operator's log pipeline.
/// </summary>
internal sealed partial class AdminChangeLog(ILogger<AdminChangeLog> logger)
{
    [LoggerMessage(EventId = 2060, Level = LogLevel.Information, Message = "Admin change by {Actor} in tenant {Tenant}: plan-changed to {Model}, {SeatLimit} seats ({Ended} sessions ended)")]
    public partial void PlanChanged(string actor, string tenant, string model, int seatLimit, int ended);

    [LoggerMessage(EventId = 2061, Level = LogLevel.Information, Message = "Admin change by {Actor} in tenant {Tenant}: {Action} user {UserId} ({Ended} sessions ended)")]
    private partial void UserChanged(string actor, string tenant, string action, string userId, int ended);

    public void UserActivation(string actor, string tenant, string userId, bool active, int ended) =>
        UserChanged(actor, tenant, active ? "user-activated" : "user-deactivated", userId, ended);

    [LoggerMessage(EventId = 2062, Level = LogLevel.Information, Message = "Admin change by {Actor} in tenant {Tenant}: users-changed, active {Activated}, inactive {Deactivated} ({Ended} sessions ended)")]
    private partial void UsersChanged(string actor, string tenant, string activated, string deactivated, int ended);

    /// <summary>A bulk change: one line, naming the users (at most the first 20 of each kind, then a count).</summary>
    public void BulkActivation(string actor, string tenant, IReadOnlyList<(string User, bool Active)> changes, int ended) =>
        UsersChanged(actor, tenant, Names(changes.Where(c => c.Active)), Names(changes.Where(c => !c.Active)), ended);

    [LoggerMessage(EventId = 2063, Level = LogLevel.Information, Message = "Admin change by {Actor} in tenant {Tenant}: users-swapped, deactivated {Deactivated}, activated {Activated} ({Ended} sessions ended)")]
    public partial void UsersSwapped(string actor, string tenant, string deactivated, string activated, int ended);

    [LoggerMessage(EventId = 2064, Level = LogLevel.Information, Message = "Admin change by {Actor} in tenant {Tenant}: session-ended {SessionId}")]
    public partial void SessionEnded(string actor, string tenant, string sessionId);

    private static string Names(IEnumerable<(string User, bool Active)> changes)
    {
        const int shown = 20;
        var users = changes.Select(c => c.User).ToArray();
        if (users.Length == 0) return "none";
        var text = string.Join(", ", users.Take(shown));
        return users.Length > shown ? $"{text} and {users.Length - shown} more" : text;
    }
}
