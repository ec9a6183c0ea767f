using Gateway.Licensing.Identity;
using Gateway.Licensing.Rules;

namespace Gateway.Licensing.Store;

/// <summary>Answer of a batched touch: which sessions the store no longer holds.</summary>
public sealed record TouchResult(IReadOnlyList<string> MissingSessionIds, Sessions.ExpiredSessions Expired);

/// <summary>Answer of a sweep: how many expired sessions it ended and which.</summary>
public sealed record SweepResult(IReadOnlyList<string> EndedSessionIds, Sessions.ExpiredSessions Expired)
{
    /// <summary>Users who were never active and whose retention had passed, forgotten by this sweep.</summary>
    public int ForgottenUsers { get; init; }

    /// <summary>
    /// When the tenant next has something to do for a sweep (store clock, ms since the Unix epoch): its
    /// first session to expire or user to forget; null when nothing is pending.
    /// </summary>
    public long? NextDueMs { get; init; }
}

/// <summary>A tenant's plan and live counts, as the store holds them now.</summary>
public sealed record TenantSnapshot(
    string Tenant,
    LicenseModel Model,
    int SeatLimit,
    int ActiveUsers,
    int ActiveSessions,
    IReadOnlyList<string> ReservedUsers,
    bool ManagedByConfig)
{
    /// <summary>The plan's own per-user session limit; null when the plan follows the gateway's default.</summary>
    public int? MaxSessionsPerUser { get; init; }

    /// <summary>The plan's own enforcement; null when the tenant follows configuration.</summary>
    public EnforcementMode? Enforcement { get; init; }
}

/// <summary>A tenant's seat limit and live counts: what its gauges show.</summary>
public sealed record TenantSeats(string Tenant, int SeatLimit, int ActiveUsers, int ActiveSessions);

public enum PlanChangeStatus
{
    Created,
    Updated,
    SeatLimitBelowActiveUsers,
    ManagedByConfig,
}

/// <summary>Answer of a plan change; <see cref="EndedSessionIds"/> were revoked to re-establish the cap.</summary>
public sealed record PlanChangeResult(PlanChangeStatus Status, IReadOnlyList<string> EndedSessionIds, int ActiveUsers);

public enum ActivationStatus
{
    /// <summary>The user record was created by this call.</summary>
    Created,
    Updated,
    /// <summary>The user already had the requested state.</summary>
    Unchanged,
    SeatLimitReached,
    TenantUnlicensed,
    /// <summary>The tenant already holds <c>Licensing:MaxUsersPerTenant</c> users; nothing changed.</summary>
    UserLimitReached,
}

/// <summary>Answer of an activation change; <see cref="EndedSessionIds"/> ended because of it.</summary>
public sealed record ActivationResult(ActivationStatus Status, bool Active, IReadOnlyList<string> EndedSessionIds);

/// <summary>One live session as the store records it.</summary>
public sealed record SessionRecord(
    string SessionId,
    string UserId,
    ClientKind ClientKind,
    string DeviceId,
    DateTimeOffset StartedAt,
    DateTimeOffset LastSeenAt,
    DateTimeOffset ExpiresAt,
    bool Borrowed);
