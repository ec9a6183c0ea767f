namespace Gateway.Licensing.Results;

/// <summary>What the store decided for one admission request.</summary>
public sealed class AdmissionResult
{
    /// <summary>The decision.</summary>
    public required AdmissionOutcome Outcome { get; init; }

    /// <summary>The caller's session id (also set when refused, so it can be shown to the caller).</summary>
    public required string SessionId { get; init; }

    /// <summary>True when this call opened the session; false when it refreshed an existing one.</summary>
    public bool Created { get; init; }

    /// <summary>Sessions this decision ended to make room (preemption); every replica must forget them.</summary>
    public IReadOnlyList<string> PreemptedSessionIds { get; init; } = [];

    /// <summary>Sessions the script found expired and ended on its way (for the ended-sessions metric).</summary>
    internal ExpiredSessions Expired { get; init; }

    /// <summary>The plan's seat limit (0 when the tenant has no plan).</summary>
    public int SeatLimit { get; init; }

    /// <summary>Live sessions of the tenant after the decision.</summary>
    public int ActiveSessions { get; init; }

    /// <summary>
    /// On <see cref="AdmissionOutcome.SeatsExhausted"/> and <see cref="AdmissionOutcome.UserSessionsExhausted"/>:
    /// the caller's own live session ids, so it can end one.
    /// </summary>
    public IReadOnlyList<string> YourSessions { get; init; } = [];

    /// <summary>On <see cref="AdmissionOutcome.SeatsExhausted"/>: when the least recently used session would idle out.</summary>
    public TimeSpan RetryAfter { get; init; }

    /// <summary>True when this use reported the session as shared (used from a second origin); reported once per session.</summary>
    public bool Shared { get; init; }

    /// <summary>
    /// When the admitted session started, in ms of the store's clock (0 when refused). A session id is
    /// derived from the identity, so the same id starts again after its session ended: this tells the
    /// two apart.
    /// </summary>
    public long SessionStartedMs { get; init; }

    /// <summary>For an admitted service session: how long until its deadline, by the store's clock when it decided; else null.</summary>
    public TimeSpan? LifetimeLeft { get; init; }

    /// <summary>
    /// For an admitted session that started in shadow mode over what enforcement would have done: that
    /// outcome (<see cref="AdmissionOutcome.SeatsExhausted"/>, <see cref="AdmissionOutcome.UserSessionsExhausted"/>,
    /// <see cref="AdmissionOutcome.UserInactive"/> or <see cref="AdmissionOutcome.Preempted"/>), on every
    /// admission of the session while it lives; else null.
    /// </summary>
    public AdmissionOutcome? ShadowOf { get; init; }

    /// <summary>True when the session may be used: admitted, or admitted after a preemption.</summary>
    public bool IsAdmitted => Outcome is AdmissionOutcome.Admitted or AdmissionOutcome.Preempted;
}
