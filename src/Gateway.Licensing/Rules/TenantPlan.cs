namespace Gateway.Licensing.Rules;

/// <summary>A tenant's licence: its model, seat limit and (for ConcurrentSessions) reserved users.</summary>
public sealed record TenantPlan(LicenseModel Model, int SeatLimit, IReadOnlyList<string> ReservedUsers)
{
    /// <summary>Upper bound of a seat limit; far above any real tenant, low enough to keep counts exact in Lua numbers.</summary>
    public const int MaxSeatLimit = 1_000_000;
}
