using Gateway.Licensing.Identity;

namespace Gateway.Licensing.Results;

/// <summary>One live session as the store records it.</summary>
/// <param name="SessionId">The session id.</param>
/// <param name="UserId">The user holding it.</param>
/// <param name="ClientKind">Its client kind.</param>
/// <param name="DeviceId">Its device id.</param>
/// <param name="StartedAt">When it started (store clock).</param>
/// <param name="LastSeenAt">When its use was last recorded (store clock).</param>
/// <param name="ExpiresAt">When it ends unless used again: the earlier of its idle expiry and a service session's deadline.</param>
/// <param name="Borrowed">True when it is not its user's most recently used session.</param>
public sealed record SessionRecord(
    string SessionId,
    string UserId,
    ClientKind ClientKind,
    string DeviceId,
    DateTimeOffset StartedAt,
    DateTimeOffset LastSeenAt,
    DateTimeOffset ExpiresAt,
    bool Borrowed);
