using Gateway.Licensing.Rules;

namespace Gateway.Licensing.Results;

/// <summary>A tenant's plan and live counts, as the store holds them now.</summary>
/// <param name="Tenant">The tenant id.</param>
/// <param name="Model">The plan's licence model.</param>
/// <param name="SeatLimit">The plan's seat limit.</param>
/// <param name="ActiveUsers">Users active now.</param>
/// <param name="ActiveSessions">Sessions live now.</param>
/// <param name="ReservedUsers">Reserved users (ConcurrentSessions), in ordinal order.</param>
/// <param name="ManagedByConfig">True when the plan comes from configuration, so the management API may not change it.</param>
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
