namespace Gateway.Licensing.Results;

/// <summary>Answer of a sweep: how many expired sessions it ended and which.</summary>
internal sealed record SweepResult(IReadOnlyList<string> EndedSessionIds, ExpiredSessions Expired)
{
    /// <summary>Users who were never active and whose retention had passed, forgotten by this sweep.</summary>
    public int ForgottenUsers { get; init; }

    /// <summary>
    /// When the tenant next has something to do for a sweep (store clock, ms since the Unix epoch): its
    /// first session to expire or user to forget; null when nothing is pending.
    /// </summary>
    public long? NextDueMs { get; init; }
}
