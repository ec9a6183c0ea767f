namespace Gateway.Licensing.Results;

/// <summary>A known user of a tenant: whether active, how many live sessions, when last seen (store clock).</summary>
/// <param name="UserId">The user id.</param>
/// <param name="Active">Whether the user is active.</param>
/// <param name="Sessions">The user's live sessions.</param>
/// <param name="LastSeenAt">When the user was last seen; null when never.</param>
public sealed record UserRecord(string UserId, bool Active, int Sessions, DateTimeOffset? LastSeenAt);
