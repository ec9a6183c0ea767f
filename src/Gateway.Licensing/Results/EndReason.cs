namespace Gateway.Licensing.Results;

/// <summary>Why a session ended; the values are the <c>licensing.end_reason</c> metric attribute.</summary>
public static class EndReason
{
    /// <summary>Unused for longer than the idle timeout.</summary>
    public const string Idle = "idle";

    /// <summary>A service session reached the end of its lifetime.</summary>
    public const string Lifetime = "lifetime";

    /// <summary>Its user logged out (a <c>Release</c> route).</summary>
    public const string Logout = "logout";

    /// <summary>Ended through the management API.</summary>
    public const string Revoked = "revoked";

    /// <summary>Ended to make room for another session.</summary>
    public const string Preempted = "preempted";

    /// <summary>Its user was deactivated.</summary>
    public const string Deactivated = "deactivated";
}
