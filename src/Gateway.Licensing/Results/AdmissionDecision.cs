using Gateway.Licensing.Sessions;

namespace Gateway.Licensing.Results;

/// <summary>What the gateway does with one enforced request.</summary>
/// <param name="Outcome">The decision.</param>
/// <param name="SessionId">The caller's session id.</param>
/// <param name="StoreResult">The store's answer, when the store was asked; null when the answer came from this replica's memory or the store was down.</param>
public readonly record struct AdmissionDecision(AdmissionOutcome Outcome, string SessionId, AdmissionResult? StoreResult)
{
    /// <summary>Forward the request: admitted, or the store is down and the outage policy lets it through.</summary>
    public bool Forward { get; init; } = Outcome is AdmissionOutcome.Admitted or AdmissionOutcome.Preempted;

    /// <summary>True when the answer came from this replica's memory of the session, without a store call.</summary>
    public bool FromLocalCache { get; init; }

    /// <summary>
    /// This replica's entry of the admitted session, when it has one: the forwarded request is registered
    /// on it (<see cref="SessionUseTracker.Opened(SessionUse, in AdmissionDecision)"/>) so it closes when the
    /// session ends and counts as use while open.
    /// </summary>
    internal LocalSessionCache.Entry? Entry { get; init; }

    /// <summary>
    /// True when this replica remembers the admitted session: register the forwarded request with
    /// <see cref="SessionUseTracker.Opened(SessionUse, in AdmissionDecision)"/>, so it is closed when the
    /// session ends and counts as use while open.
    /// </summary>
    public bool TracksUse => Entry is not null;

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
