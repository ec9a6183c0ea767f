using Gateway.Licensing.Identity;
using Yarp.ReverseProxy.Configuration;

namespace Gateway.Proxy;

/// <summary>
/// The route metadata that tells the licensing step what to do: <c>Licensing</c> (the mode) on a route,
/// and <c>LicensingTenant</c> (the tenant of every request) on a route or its cluster. Validated when
/// YARP loads a configuration (<see cref="LicensingMetadataValidator"/>), parsed once per route endpoint
/// YARP builds (<see cref="SeatLicensingProxyExtensions.WithRouteLicensing"/>).
/// </summary>
internal static class RouteLicensingMetadata
{
    public const string ModeKey = "Licensing";
    public const string TenantKey = "LicensingTenant";

    /// <summary>Why a <c>Licensing</c> value was refused, naming the route; null when the value is a mode or absent.</summary>
    public static string? ModeError(RouteConfig route) =>
        Value(route.Metadata, ModeKey) is { } value && !TryParseMode(value, out _)
            ? $"Route '{route.RouteId}': metadata '{ModeKey}' must be Enforce, Off or Release (was '{value}')."
            : null;

    /// <summary>Why a route's <c>LicensingTenant</c> was refused, naming the route; null when it is a tenant id or absent.</summary>
    public static string? TenantError(RouteConfig route) =>
        Value(route.Metadata, TenantKey) is { } value && !IdentityRules.IsValidTenant(value)
            ? $"Route '{route.RouteId}': metadata '{TenantKey}' must be a tenant id matching {TenantPattern} (was '{value}')."
            : null;

    /// <summary>Why a cluster's <c>LicensingTenant</c> was refused, naming the cluster; null when it is a tenant id or absent.</summary>
    public static string? TenantError(ClusterConfig cluster) =>
        Value(cluster.Metadata, TenantKey) is { } value && !IdentityRules.IsValidTenant(value)
            ? $"Cluster '{cluster.ClusterId}': metadata '{TenantKey}' must be a tenant id matching {TenantPattern} (was '{value}')."
            : null;

    /// <summary>
    /// What the licensing step does on a route. The values were validated when the configuration was
    /// loaded; should one still be invalid, the route fails closed: an unreadable mode enforces (never
    /// forward unlicensed by mistake), an unreadable tenant admits nobody (without it the route would
    /// fall back to the token's tenant).
    /// </summary>
    public static RouteLicensing Parse(RouteConfig route, ClusterConfig? cluster)
    {
        var mode = LicensingMode.Enforce;
        if (Value(route.Metadata, ModeKey) is { } value && !TryParseMode(value, out mode)) mode = LicensingMode.Enforce;

        var tenant = Value(route.Metadata, TenantKey) ?? (cluster is null ? null : Value(cluster.Metadata, TenantKey));
        if (tenant is not null && !IdentityRules.IsValidTenant(tenant)) return new RouteLicensing(route.RouteId, LicensingMode.Enforce, RouteLicensing.InvalidTenant);
        return new RouteLicensing(route.RouteId, mode, tenant);
    }

    public static bool TryParseMode(string value, out LicensingMode mode)
    {
        var trimmed = value.AsSpan().Trim();
        if (trimmed.Equals(nameof(LicensingMode.Enforce), StringComparison.OrdinalIgnoreCase)) { mode = LicensingMode.Enforce; return true; }
        if (trimmed.Equals(nameof(LicensingMode.Off), StringComparison.OrdinalIgnoreCase)) { mode = LicensingMode.Off; return true; }
        if (trimmed.Equals(nameof(LicensingMode.Release), StringComparison.OrdinalIgnoreCase)) { mode = LicensingMode.Release; return true; }
        mode = default;
        return false;
    }

    private const string TenantPattern = "^[A-Za-z0-9._-]{1,64}$";

    /// <summary>A metadata value by key, the key compared case-insensitively as configuration keys are.</summary>
    private static string? Value(IReadOnlyDictionary<string, string>? metadata, string key)
    {
        if (metadata is not { Count: > 0 }) return null;
        if (metadata.TryGetValue(key, out var value)) return value;
        foreach (var (name, v) in metadata)
        {
            if (string.Equals(name, key, StringComparison.OrdinalIgnoreCase)) return v;
        }
        return null;
    }
}

/// <summary>
/// What the gateway does on a route, and the tenant the route names (null: the token's). Carried as
/// metadata of the route's endpoint, so the licensing step reads it without parsing anything.
/// </summary>
internal sealed class RouteLicensing(string routeId, LicensingMode mode, string? tenant)
{
    /// <summary>Stands for a tenant metadata value that is not a tenant id: no identity resolves against it.</summary>
    public const string InvalidTenant = "";

    public string RouteId { get; } = routeId;

    public LicensingMode Mode { get; } = mode;

    /// <summary>The tenant of every request on the route, from its metadata; null when the token names it.</summary>
    public string? Tenant { get; } = tenant;
}
