namespace Gateway.Licensing.Results;

/// <summary>A page of sessions; <see cref="NextAfter"/> continues the walk, null at the end.</summary>
/// <param name="Sessions">The sessions of this page, in ordinal order of their ids.</param>
/// <param name="NextAfter">The cursor of the next page; null when there is none.</param>
public sealed record SessionPage(IReadOnlyList<SessionRecord> Sessions, string? NextAfter);
