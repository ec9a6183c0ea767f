using Gateway.Licensing.Rules;

namespace Gateway.Licensing.Options;

/// <summary>The <c>Licensing</c> configuration section (docs/configuration.md).</summary>
public sealed class LicensingOptions
{
    /// <summary>The configuration section bound to these options.</summary>
    public const string SectionName = "Licensing";

    /// <summary>The device sources used when <see cref="DeviceSources"/> is not configured.</summary>
    public static readonly IReadOnlyList<string> DefaultDeviceSources =
        ["claim:did", "header:X-Device-Id", "claim:sid", "cookie:seat-device", "fingerprint"];

    /// <summary>Claim names for tenant, user, client id and role.</summary>
    public ClaimOptions Claims { get; set; } = new();

    /// <summary>The role claim's values that make an operator or a tenant admin.</summary>
    public RoleOptions Roles { get; set; } = new();

    /// <summary>
    /// User ids (user claim, else client id) that are operators whatever tenant their token names, in
    /// addition to the operator role. Default: none.
    /// </summary>
    public string[]? Operators { get; set; }

    /// <summary>Tenant used when the token has no tenant claim. Default: none (such tokens get 403 <c>identity-incomplete</c>).</summary>
    public string? DefaultTenant { get; set; }

    /// <summary>
    /// Ordered sources of the device id; the first that yields a value wins. A configured list replaces
    /// the default (<see cref="DefaultDeviceSources"/>) rather than appending to it.
    /// </summary>
    public string[]? DeviceSources { get; set; }

    /// <summary>What a newcomer gets when the tenant is at its cap. Default: <see cref="AtCapacityBehavior.PreemptBorrowed"/>.</summary>
    public AtCapacityBehavior AtCapacity { get; set; } = AtCapacityBehavior.PreemptBorrowed;

    /// <summary>Whether a user seen for the first time is activated while a seat is free. Default: false.</summary>
    public bool AutoActivate { get; set; }

    /// <summary>What enforced requests get while the store does not answer. Default: <see cref="StoreUnavailableBehavior.KeepAdmitted"/>.</summary>
    public StoreUnavailableBehavior StoreUnavailable { get; set; } = StoreUnavailableBehavior.KeepAdmitted;

    /// <summary>Sliding idle timeout of a session. Default: 00:20:00; at least 1 second.</summary>
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromMinutes(20);

    /// <summary>
    /// How often (at most) a live session's use is recorded in the store; the store keeps a session
    /// <see cref="StoreIdleWindow"/> after its recorded use. Default: <see cref="IdleTimeout"/> / 20;
    /// always less than <see cref="IdleTimeout"/>.
    /// </summary>
    public TimeSpan? TouchInterval { get; set; }

    /// <summary>Absolute lifetime of a service (client-credentials) session. Default: 01:00:00.</summary>
    public TimeSpan ServiceSessionLifetime { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Path under which the gateway answers its own routes. Default: <c>/_licensing</c>.</summary>
    public string ManagementPath { get; set; } = "/_licensing";

    /// <summary>When set, tenant routes, metrics and OpenAPI are served only on this port. Default: none.</summary>
    public int? ManagementPort { get; set; }

    /// <summary>Metrics exposure.</summary>
    public MetricsOptions Metrics { get; set; } = new();

    /// <summary>Exposure of the management API's OpenAPI document.</summary>
    public OpenApiOptions OpenApi { get; set; } = new();

    /// <summary>The embedded store used when <c>ConnectionStrings:Redis</c> is empty.</summary>
    public EmbeddedStoreOptions Embedded { get; set; } = new();

    /// <summary>How admin writes are made durable on a store with replicas.</summary>
    public StoreOptions Store { get; set; } = new();

    /// <summary>How many audit entries each tenant keeps (newest first). Default: 10000.</summary>
    public int AuditCapacity { get; set; } = 10_000;

    /// <summary>How often the background sweep ends expired sessions of every tenant. Default: 00:00:05.</summary>
    public TimeSpan SweepInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Most live sessions one user may hold in a tenant whose plan does not set its own
    /// <c>maxSessionsPerUser</c>; 0 = no limit. Default: 0.
    /// </summary>
    public int MaxSessionsPerUser { get; set; }

    /// <summary>
    /// Whether seats are enforced (<see cref="EnforcementMode.Enforce"/>) or only observed
    /// (<see cref="EnforcementMode.Shadow"/>) for tenants whose plan and configuration entry do not say.
    /// Default: <see cref="EnforcementMode.Enforce"/>.
    /// </summary>
    public EnforcementMode Enforcement { get; set; } = EnforcementMode.Enforce;

    /// <summary>
    /// Most users a tenant may have registered (active or not); an activation, bulk change or first
    /// sighting beyond it registers nobody. Default: 100000.
    /// </summary>
    public int MaxUsersPerTenant { get; set; } = 100_000;

    /// <summary>
    /// How long a user who was never active (registered by a first sighting, or by an admin as inactive)
    /// is kept after their last sighting or registration; then the sweep forgets them. Users who were
    /// ever active are kept. Default: 30.00:00:00 (30 days).
    /// </summary>
    public TimeSpan UserRetention { get; set; } = TimeSpan.FromDays(30);

    /// <summary>Plans seeded from configuration, by tenant id; such plans are managed by configuration.</summary>
    public Dictionary<string, TenantPlanOptions> Tenants { get; set; } = new(StringComparer.Ordinal);

    /// <summary>
    /// The enforcement of <paramref name="tenant"/> unless its plan sets its own:
    /// <c>Licensing:Tenants:{t}:Enforcement</c>, else <see cref="Enforcement"/>.
    /// </summary>
    public EnforcementMode DefaultEnforcementFor(string tenant) =>
        Tenants.TryGetValue(tenant, out var configured) && configured.Enforcement is { } mode ? mode : Enforcement;

    /// <summary>The device sources in use: <see cref="DeviceSources"/> when configured, else <see cref="DefaultDeviceSources"/>.</summary>
    public IReadOnlyList<string> EffectiveDeviceSources => DeviceSources is { Length: > 0 } configured ? configured : DefaultDeviceSources;

    /// <summary>The touch interval in use: <see cref="TouchInterval"/> when configured, else a twentieth of <see cref="IdleTimeout"/>.</summary>
    public TimeSpan EffectiveTouchInterval => TouchInterval ?? IdleTimeout / 20;

    /// <summary>
    /// How long after its last recorded use the store keeps a session: <see cref="IdleTimeout"/> +
    /// <see cref="EffectiveTouchInterval"/>. Use is recorded lazily (at most once per touch interval), and
    /// the gateway never lets the record fall a touch interval or more behind the last request, so a
    /// session ends between IdleTimeout and IdleTimeout + TouchInterval after its last request, never
    /// before IdleTimeout (docs/sessions.md).
    /// </summary>
    public TimeSpan StoreIdleWindow => IdleTimeout + EffectiveTouchInterval;
}

/// <summary>The <c>Licensing:Claims</c> section: which token claims carry the identity.</summary>
public sealed class ClaimOptions
{
    /// <summary>Claim holding the tenant id. Default: <c>tid</c>.</summary>
    public string Tenant { get; set; } = "tid";

    /// <summary>Claim holding the user id. Default: <c>sub</c>.</summary>
    public string User { get; set; } = "sub";

    /// <summary>Claim holding the client id of a service identity (a token without the user claim). Default: <c>client_id</c>.</summary>
    public string ClientId { get; set; } = "client_id";

    /// <summary>Claim holding roles (string or array). Default: <c>role</c>.</summary>
    public string Role { get; set; } = "role";
}

/// <summary>The <c>Licensing:Roles</c> section: the role claim's values the management API knows.</summary>
public sealed class RoleOptions
{
    /// <summary>Role value of an operator (every tenant, plan changes included). Default: <c>license-operator</c>.</summary>
    public string Operator { get; set; } = "license-operator";

    /// <summary>Role value of a tenant admin (the tenant its token names). Default: <c>license-admin</c>.</summary>
    public string Admin { get; set; } = "license-admin";
}

/// <summary>The <c>Licensing:Metrics</c> section.</summary>
public sealed class MetricsOptions
{
    /// <summary>Whether <c>/_licensing/metrics</c> serves Prometheus text. Default: true.</summary>
    public bool Expose { get; set; } = true;

    /// <summary>At most this many tenants get per-tenant gauges. Default: 100.</summary>
    public int MaxTenants { get; set; } = 100;
}

/// <summary>The <c>Licensing:OpenApi</c> section.</summary>
public sealed class OpenApiOptions
{
    /// <summary>
    /// Whether <c>/_licensing/openapi/v1.json</c> (and, in Development, the API reference page at
    /// <c>/_licensing/docs</c>) is served. Default: true.
    /// </summary>
    public bool Expose { get; set; } = true;
}

/// <summary>The <c>Licensing:EmbeddedStore</c> section: the in-process store used when no Redis is configured.</summary>
public sealed class EmbeddedStoreOptions
{
    /// <summary>Where the embedded store keeps its append-only log and checkpoints. Default: <c>.data/store</c> under the content root.</summary>
    public string DataPath { get; set; } = ".data/store";

    /// <summary>Loopback port of the embedded store; 0 picks a free one. Default: 0.</summary>
    public int Port { get; set; }

    /// <summary>
    /// How often the embedded store takes a checkpoint, which truncates its append-only log so it
    /// neither grows without end nor is replayed in full at every start. Default: 00:10:00.
    /// </summary>
    public TimeSpan CheckpointInterval { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>The default of <see cref="MaxSessions"/>.</summary>
    public const int DefaultMaxSessions = 150_000;

    /// <summary>
    /// Approximate ceiling on live sessions across all tenants in the embedded store, which lives in the
    /// gateway's memory. At it, a new session gets 503 <c>store-unavailable</c> (live sessions keep
    /// working) instead of the store growing until the process runs out of memory. The count may pass it
    /// by the admissions in flight and lags ended sessions by up to 10 seconds. 0 = no ceiling. Not used
    /// on Redis. Default: 150000.
    /// </summary>
    public int MaxSessions { get; set; } = DefaultMaxSessions;
}

/// <summary>
/// The <c>Licensing:Store</c> section. Redis replicates asynchronously: a primary that dies takes the
/// writes it had not passed on yet with it. So an admin write is answered 2xx only once enough replicas
/// have acknowledged it.
/// </summary>
public sealed class StoreOptions
{
    /// <summary>Upper bound of <see cref="MinReplicaAcks"/>.</summary>
    public const int MaxReplicaAcks = 16;

    /// <summary>
    /// How many replicas must acknowledge an admin write before it is answered 2xx. Default: unset, which
    /// means 1 when the primary that holds the tenant has a replica, else 0 (no wait: a store without
    /// replicas keeps working as before). 0 turns the wait off.
    /// </summary>
    public int? MinReplicaAcks { get; set; }

    /// <summary>
    /// How long an admin write waits for the replicas' acknowledgements; short of them, the answer is
    /// 503 <c>store-not-durable</c>. Default: 00:00:01.
    /// </summary>
    public TimeSpan ReplicaAckTimeout { get; set; } = TimeSpan.FromSeconds(1);
}

/// <summary>
/// One entry of <c>Licensing:Tenants</c>: a plan managed by configuration (<see cref="Model"/> and
/// <see cref="SeatLimit"/>, both required for a plan), and/or the tenant's admins and enforcement. An
/// entry with only <see cref="Admins"/> and <see cref="Enforcement"/> seeds no plan.
/// </summary>
public sealed class TenantPlanOptions
{
    /// <summary>The plan's licence model; required for a plan.</summary>
    public LicenseModel? Model { get; set; }

    /// <summary>The plan's seat limit; required for a plan.</summary>
    public int? SeatLimit { get; set; }

    /// <summary>Reserved users (ConcurrentSessions only). Default: none.</summary>
    public string[]? ReservedUsers { get; set; }

    /// <summary>
    /// The plan's per-user session limit (0 = no limit); when absent the tenant follows
    /// <see cref="LicensingOptions.MaxSessionsPerUser"/>. Default: absent.
    /// </summary>
    public int? MaxSessionsPerUser { get; set; }

    /// <summary>
    /// Whether this tenant's seats are enforced or only observed, unless its plan sets
    /// <c>enforcement</c>; when absent <see cref="LicensingOptions.Enforcement"/> applies. It configures
    /// no plan by itself. Default: absent.
    /// </summary>
    public EnforcementMode? Enforcement { get; set; }

    /// <summary>Users activated at every start while seats allow; never deactivates anyone.</summary>
    public string[]? ActiveUsers { get; set; }

    /// <summary>User ids that administer this tenant when their token names it (as the admin role would). Default: none.</summary>
    public string[]? Admins { get; set; }

    /// <summary>Whether the entry configures a plan (anything besides <see cref="Admins"/> and <see cref="Enforcement"/>).</summary>
    public bool HasPlan => Model is not null || SeatLimit is not null || ReservedUsers is not null || ActiveUsers is not null;
}
