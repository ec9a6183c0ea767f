namespace Gateway.Licensing.Sessions;

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

public static class AdmissionOutcomeNames
{
    public static string ToMetricValue(this AdmissionOutcome outcome) => outcome switch
    {
        AdmissionOutcome.Admitted => "admitted",
        AdmissionOutcome.Preempted => "preempted",
        AdmissionOutcome.SeatsExhausted => "seats_exhausted",
        AdmissionOutcome.UserInactive => "user_inactive",
        AdmissionOutcome.TenantUnlicensed => "tenant_unlicensed",
        AdmissionOutcome.StoreUnavailable => "store_unavailable",
        AdmissionOutcome.UserSessionsExhausted => "user_sessions_exhausted",
        _ => throw new ArgumentOutOfRangeException(nameof(outcome)),
    };

    /// <summary>The <c>licensing.result</c> of a session admitted in shadow mode over <paramref name="wouldBe"/>.</summary>
    public static string ToShadowMetricValue(this AdmissionOutcome wouldBe) => wouldBe switch
    {
        AdmissionOutcome.SeatsExhausted => "shadow_seats_exhausted",
        AdmissionOutcome.UserSessionsExhausted => "shadow_user_sessions_exhausted",
        AdmissionOutcome.UserInactive => "shadow_user_inactive",
        AdmissionOutcome.Preempted => "shadow_preempted",
        _ => throw new ArgumentOutOfRangeException(nameof(wouldBe)),
    };
}
