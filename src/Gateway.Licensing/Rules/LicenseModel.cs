namespace Gateway.Licensing.Rules;

/// <summary>How a tenant is licensed (docs/licensing-rules.md). Serialized as written: <c>RegisteredUsers</c>.</summary>
public enum LicenseModel
{
    /// <summary>N active users; cap = active users; each active user is guaranteed one session.</summary>
    RegisteredUsers,

    /// <summary>N concurrent sessions, whoever the users are; reserved users are guaranteed one.</summary>
    ConcurrentSessions,
}

/// <summary>What happens when a user without a session arrives and the tenant is at its cap.</summary>
public enum AtCapacityBehavior
{
    /// <summary>End the least recently used borrowed session and admit the newcomer (default).</summary>
    PreemptBorrowed,

    /// <summary>Refuse the newcomer with 429; never end another session.</summary>
    Reject,
}

/// <summary>What enforced requests get while the store cannot be reached (the outage policy).</summary>
public enum StoreUnavailableBehavior
{
    /// <summary>Sessions this replica saw live within the idle timeout keep working; new ones get 503 (default).</summary>
    KeepAdmitted,

    /// <summary>Every enforced request gets 503.</summary>
    FailClosed,

    /// <summary>Forward everything, counted and logged.</summary>
    FailOpen,
}
