namespace Gateway.Licensing.Results;

/// <summary>The result of one admission; values match the <c>licensing.result</c> metric attribute.</summary>
public enum AdmissionOutcome
{
    /// <summary>admitted: a new session, or an existing one refreshed.</summary>
    Admitted,

    /// <summary>preempted: admitted after ending another session (the least recently used borrowed one).</summary>
    Preempted,

    /// <summary>seats_exhausted: the tenant is at its cap.</summary>
    SeatsExhausted,

    /// <summary>user_inactive: RegisteredUsers and the user is not active.</summary>
    UserInactive,

    /// <summary>tenant_unlicensed: no plan for the tenant.</summary>
    TenantUnlicensed,

    /// <summary>store_unavailable: the store could not be asked.</summary>
    StoreUnavailable,

    /// <summary>user_sessions_exhausted: the user already holds the per-user limit of sessions.</summary>
    UserSessionsExhausted,
}
