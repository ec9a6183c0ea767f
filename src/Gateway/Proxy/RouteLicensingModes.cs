using System.Runtime.CompilerServices;
using Yarp.ReverseProxy.Configuration;

namespace Gateway.Proxy;

/// <summary>
/// The licensing mode of each route, parsed once per <see cref="RouteConfig"/> instance (a config
/// load creates new instances, so a reload is parsed again and old entries go with their routes).
/// </summary>
internal sealed partial class RouteLicensingModes(ILogger<RouteLicensingModes> logger)
{
    public const string MetadataKey = "Licensing";

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

    /// <summary>Records the mode the config filter parsed for this route instance.</summary>
    public void Remember(RouteConfig route, LicensingMode mode) => _modes.AddOrUpdate(route, Box(mode));

    /// <summary>The mode of a route; one table lookup per request.</summary>
    public LicensingMode Get(RouteConfig route)
    {
        if (_modes.TryGetValue(route, out var box)) return box.Mode;
        return _modes.GetValue(route, ParseUnfiltered).Mode;
    }

    /// <summary>
    /// A route the config filter did not see (another filter replaced the instance after ours). Its
    /// value was validated already; should it still be invalid, enforce: never forward unlicensed by mistake.
    /// </summary>
    private ModeBox ParseUnfiltered(RouteConfig route)
    {
        var value = MetadataValue(route);
        if (value is null) return EnforceBox;
        if (TryParse(value, out var mode)) return Box(mode);
        LogInvalidMode(route.RouteId, value);
        return EnforceBox;
    }

    private static string? MetadataValue(RouteConfig route)
    {
        if (route.Metadata is not { Count: > 0 } metadata) return null;
        if (metadata.TryGetValue(MetadataKey, out var value)) return value;
        foreach (var (key, v) in metadata)
        {
            if (string.Equals(key, MetadataKey, StringComparison.OrdinalIgnoreCase)) return v;
        }
        return null;
    }

    private static ModeBox Box(LicensingMode mode) => mode switch
    {
        LicensingMode.Off => OffBox,
        LicensingMode.Release => ReleaseBox,
        _ => EnforceBox,
    };

    private sealed class ModeBox(LicensingMode mode)
    {
        public LicensingMode Mode { get; } = mode;
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Route {RouteId}: invalid metadata Licensing '{Value}'; enforcing licensing")]
    private partial void LogInvalidMode(string routeId, string value);
}
