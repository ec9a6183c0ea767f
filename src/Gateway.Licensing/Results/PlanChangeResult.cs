namespace Gateway.Licensing.Results;

/// <summary>Answer of a plan change; <see cref="EndedSessionIds"/> were revoked to re-establish the cap.</summary>
/// <param name="Status">How the change ended.</param>
/// <param name="EndedSessionIds">Sessions ended to bring the tenant within the new limits.</param>
/// <param name="ActiveUsers">Users active after the change.</param>
public sealed record PlanChangeResult(PlanChangeStatus Status, IReadOnlyList<string> EndedSessionIds, int ActiveUsers);
