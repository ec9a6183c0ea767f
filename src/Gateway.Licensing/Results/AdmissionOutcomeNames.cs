namespace Gateway.Licensing.Results;

/// <summary>The <c>licensing.result</c> metric values of <see cref="AdmissionOutcome"/>.</summary>
internal static class AdmissionOutcomeNames
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
