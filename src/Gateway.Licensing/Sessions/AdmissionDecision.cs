namespace Gateway.Licensing.Sessions;

/// <summary>What the gateway does with one enforced request.</summary>
public readonly record struct AdmissionDecision(AdmissionOutcome Outcome, string SessionId, AdmissionResult? StoreResult)
{
    /// <summary>Forward the request: admitted, or the store is down and the outage policy lets it through.</summary>
    public bool Forward { get; init; } = Outcome is AdmissionOutcome.Admitted or AdmissionOutcome.Preempted;

    /// <summary>True when the answer came from this replica's memory of the session, without a store call.</summary>
    public bool FromLocalCache { get; init; }

    /// <summary>
    /// This replica's entry of the admitted session, when it has one: register the forwarded request on it
    /// (<see cref="SessionUseTracker.Opened"/>) so it closes when the session ends and counts as use while open.
    /// </summary>
    public LocalSessionCache.Entry? Entry { get; init; }

    /// <summary>
    /// True when a new session was refused because the embedded store holds its most sessions
    /// (<c>Licensing:Embedded:MaxSessions</c>); the outcome is then <see cref="AdmissionOutcome.StoreUnavailable"/>.
    /// </summary>
    public bool SessionCeilingReached { get; init; }

    /// <summary>
    /// For a forwarded request of a session that started in shadow mode over a would-be refusal or
    /// preemption: what enforcement would have decided. Null otherwise.
    /// </summary>
    public AdmissionOutcome? ShadowOf { get; init; }
}
