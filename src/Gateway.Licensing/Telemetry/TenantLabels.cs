using System.Collections.Frozen;

namespace Gateway.Licensing.Telemetry;

/// <summary>
/// The <c>licensing.tenant</c> value of the admission and end counters, bounded by
/// <c>Licensing:Metrics:MaxTenants</c>: the tenants that have per-tenant gauges (the first
/// MaxTenants registered tenants in id order, store-wide, so every replica labels alike) keep their
/// id; any other tenant, including one without a plan, is counted as <see cref="Other"/>. The set is
/// refreshed with the gauges (every 5 s), so a new tenant gets its own label within that time.
/// </summary>
internal sealed class TenantLabels
{
    /// <summary>The label of every tenant beyond the bound.</summary>
    public const string Other = "other";

    private volatile FrozenSet<string> _labelled = FrozenSet<string>.Empty;

    /// <summary>Replaces the labelled tenants (called by the gauges' sampling).</summary>
    public void Update(IEnumerable<string> tenants) => _labelled = tenants.ToFrozenSet(StringComparer.Ordinal);

    /// <summary>The label of <paramref name="tenant"/>; allocates nothing.</summary>
    public string Of(string tenant) => _labelled.TryGetValue(tenant, out var label) ? label : Other;
}
