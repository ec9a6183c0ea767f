namespace Gateway.Licensing.Sessions;

/// <summary>Why a session ended; the values are the <c>licensing.end_reason</c> metric attribute.</summary>
public static class EndReason
{
    public const string Idle = "idle";
    public const string Lifetime = "lifetime";
    public const string Logout = "logout";
    public const string Revoked = "revoked";
    public const string Preempted = "preempted";
    public const string Deactivated = "deactivated";
}
