namespace Gateway.Licensing.Results;

/// <summary>A page of users; <see cref="NextAfter"/> (the last id examined) continues the walk, null at the end.</summary>
/// <param name="Users">The users of this page, in ordinal order of their ids.</param>
/// <param name="NextAfter">The cursor of the next page; null when there is none.</param>
public sealed record UserPage(IReadOnlyList<UserRecord> Users, string? NextAfter);
