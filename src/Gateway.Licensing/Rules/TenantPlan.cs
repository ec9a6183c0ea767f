namespace Gateway.Licensing.Rules;

/// <summary>
/// A tenant's licence: its model, seat limit and (for ConcurrentSessions) reserved users, plus optional
/// fields a plan may set (null = the plan does not set it and the gateway's default applies).
/// </summary>
/// <param name="Model">How the tenant is licensed.</param>
/// <param name="SeatLimit">Its seats: active users (RegisteredUsers) or concurrent sessions (ConcurrentSessions), 1 to <see cref="MaxSeatLimit"/>.</param>
/// <param name="ReservedUsers">Users guaranteed a session under ConcurrentSessions; empty otherwise.</param>
public sealed record TenantPlan(LicenseModel Model, int SeatLimit, IReadOnlyList<string> ReservedUsers)
{
    /// <summary>Upper bound of a seat limit; far above any real tenant, low enough to keep counts exact in Lua numbers.</summary>
    public const int MaxSeatLimit = 1_000_000;

    /// <summary>Most live sessions one user may hold (0 = no limit); null = <c>Licensing:MaxSessionsPerUser</c> applies.</summary>
    public int? MaxSessionsPerUser { get; init; }

    /// <summary>Whether seats are enforced or only observed; null = <c>Licensing:Tenants:{t}:Enforcement</c>, else <c>Licensing:Enforcement</c>, applies.</summary>
    public EnforcementMode? Enforcement { get; init; }

    /// <summary>
    /// The optional fields as the store keeps them in the plan hash: name and value, an empty value
    /// when the plan does not set the field. A new optional field is one more entry here.
    /// </summary>
    internal IEnumerable<(string Field, string Value)> OptionalFields()
    {
        yield return ("maxSessionsPerUser", MaxSessionsPerUser?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "");
        yield return ("enforcement", Enforcement?.ToName() ?? "");
    }
}
