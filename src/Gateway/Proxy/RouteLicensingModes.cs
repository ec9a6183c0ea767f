using System.Runtime.CompilerServices;
using Gateway.Licensing.Identity;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Model;

namespace Gateway.Proxy;

/// <summary>
/// The licensing mode of each route, and its tenant (metadata <c>LicensingTenant</c> on the route, else
/// on its cluster), parsed once per <see cref="RouteConfig"/> instance (a config load creates new
/// instances, so a reload is parsed again and old entries go with their routes).
/// </summary>
internal sealed partial class RouteLicensingModes(ILogger<RouteLicensingModes> logger)
{
    public const string MetadataKey = "Licensing";
    public const string TenantMetadataKey = "LicensingTenant";

    private static readonly ModeBox EnforceBox = new(LicensingMode.Enforce);
    private static readonly ModeBox OffBox = new(LicensingMode.Off);
    private static readonly ModeBox ReleaseBox = new(LicensingMode.Release);

    private readonly ConditionalWeakTable<RouteConfig, ModeBox> _modes = new();

    /// <summary>The mode a route's metadata asks for; throws, naming the route, when the value is not a mode.</summary>
    public static LicensingMode Parse(RouteConfig route)
    {
        var value = MetadataValue(route);
        if (value is null) return LicensingMode.Enforce;
        if (TryParse(value, out var mode)) return mode;
        throw new InvalidOperationException(
            $"Route '{route.RouteId}': metadata '{MetadataKey}' must be Enforce, Off or Release (was '{value}').");
    }

    public static bool TryParse(string value, out LicensingMode mode)
    {
        var trimmed = value.AsSpan().Trim();
        if (trimmed.Equals(nameof(LicensingMode.Enforce), StringComparison.OrdinalIgnoreCase)) { mode = LicensingMode.Enforce; return true; }
        if (trimmed.Equals(nameof(LicensingMode.Off), StringComparison.OrdinalIgnoreCase)) { mode = LicensingMode.Off; return true; }
        if (trimmed.Equals(nameof(LicensingMode.Release), StringComparison.OrdinalIgnoreCase)) { mode = LicensingMode.Release; return true; }
        mode = default;
        return false;
    }

    /// <summary>
    /// The tenant a route's metadata names (<c>LicensingTenant</c> on the route, else on its cluster), or
    /// null; throws, naming the route or cluster, when the value is not a tenant id.
    /// </summary>
    public static string? ParseTenant(RouteConfig route, ClusterConfig? cluster)
    {
        if (MetadataValue(route.Metadata, TenantMetadataKey) is { } onRoute)
            return IdentityRules.IsValidTenant(onRoute) ? onRoute : throw new InvalidOperationException(
                $"Route '{route.RouteId}': metadata '{TenantMetadataKey}' must be a tenant id matching ^[A-Za-z0-9._-]{{1,64}}$ (was '{onRoute}').");
        if (cluster is not null && MetadataValue(cluster.Metadata, TenantMetadataKey) is { } onCluster)
            return IdentityRules.IsValidTenant(onCluster) ? onCluster : throw new InvalidOperationException(
                $"Cluster '{cluster.ClusterId}' (route '{route.RouteId}'): metadata '{TenantMetadataKey}' must be a tenant id matching ^[A-Za-z0-9._-]{{1,64}}$ (was '{onCluster}').");
        return null;
    }

    /// <summary>Records the mode the config filter parsed for this route instance.</summary>
    public void Remember(RouteConfig route, LicensingMode mode) => _modes.AddOrUpdate(route, Box(mode));

    /// <summary>Records the mode and tenant the config filter parsed for this route instance.</summary>
    public void Remember(RouteConfig route, LicensingMode mode, string? tenant) =>
        _modes.AddOrUpdate(route, tenant is null ? Box(mode) : new ModeBox(mode, tenant));

    /// <summary>The mode and tenant of a route; one table lookup per request.</summary>
    public RouteLicensing Lookup(RouteModel route) =>
        _modes.TryGetValue(route.Config, out var box) ? box : LookupUnfiltered(route);

    private ModeBox LookupUnfiltered(RouteModel route)
    {
        var cluster = route.Cluster?.Model.Config;
        return _modes.GetValue(route.Config, config => ParseUnfiltered(config, cluster));
    }

    /// <summary>The mode of a route; one table lookup per request.</summary>
    public LicensingMode Get(RouteConfig route)
    {
        if (_modes.TryGetValue(route, out var box)) return box.Mode;
        return _modes.GetValue(route, r => ParseUnfiltered(r, null)).Mode;
    }

    /// <summary>
    /// A route the config filter did not see (another filter replaced the instance after ours). Its
    /// value was validated already; should it still be invalid, enforce: never forward unlicensed by mistake.
    /// An invalid tenant there is refused the same way: no identity resolves against it.
    /// </summary>
    private ModeBox ParseUnfiltered(RouteConfig route, ClusterConfig? cluster)
    {
        var value = MetadataValue(route);
        var mode = LicensingMode.Enforce;
        if (value is not null && !TryParse(value, out mode))
        {
            LogInvalidMode(route.RouteId, value);
            mode = LicensingMode.Enforce;
        }
        string? tenant;
        try
        {
            tenant = ParseTenant(route, cluster);
        }
        catch (InvalidOperationException)
        {
            LogInvalidTenant(route.RouteId);
            // Without its tenant the route would fall back to the token's: refuse every request instead.
            return new ModeBox(LicensingMode.Enforce, RouteLicensing.InvalidTenant);
        }
        return tenant is null ? Box(mode) : new ModeBox(mode, tenant);
    }

    private static string? MetadataValue(RouteConfig route) => MetadataValue(route.Metadata, MetadataKey);

    private static string? MetadataValue(IReadOnlyDictionary<string, string>? metadata, string name)
    {
        if (metadata is not { Count: > 0 }) return null;
        if (metadata.TryGetValue(name, out var value)) return value;
        foreach (var (key, v) in metadata)
        {
            if (string.Equals(key, name, StringComparison.OrdinalIgnoreCase)) return v;
        }
        return null;
    }

    private static ModeBox Box(LicensingMode mode) => mode switch
    {
        LicensingMode.Off => OffBox,
        LicensingMode.Release => ReleaseBox,
        _ => EnforceBox,
    };

    private sealed class ModeBox(LicensingMode mode, string? tenant = null) : RouteLicensing(mode, tenant);

    [LoggerMessage(EventId = 2020, Level = LogLevel.Error, Message = "Route {RouteId}: invalid metadata Licensing '{Value}'; enforcing licensing")]
    private partial void LogInvalidMode(string routeId, string value);

    [LoggerMessage(EventId = 2021, Level = LogLevel.Error, Message = "Route {RouteId}: invalid metadata LicensingTenant; refusing its requests")]
    private partial void LogInvalidTenant(string routeId);
}

/// <summary>What the gateway does on a route, and the tenant the route names (null: the token's).</summary>
internal class RouteLicensing(LicensingMode mode, string? tenant)
{
    /// <summary>Stands for a tenant metadata value that is not a tenant id: no identity resolves against it.</summary>
    public const string InvalidTenant = "";

    public LicensingMode Mode { get; } = mode;

    /// <summary>The tenant of every request on the route, from its metadata; null when the token names it.</summary>
    public string? Tenant { get; } = tenant;
}
