using Gateway.Licensing.Options;
using Microsoft.Extensions.Options;

namespace Gateway.Management;

/// <summary><c>Licensing:ManagementPath</c> as a <see cref="PathString"/>, rebuilt only when the options change.</summary>
internal sealed class ManagementPath(IOptionsMonitor<LicensingOptions> options)
{
    private (LicensingOptions Source, PathString Path)? _current;

    public PathString Value
    {
        get
        {
            var source = options.CurrentValue;
            var current = _current;
            if (current is { } c && ReferenceEquals(c.Source, source)) return c.Path;
            var path = new PathString(source.ManagementPath);
            _current = (source, path);
            return path;
        }
    }

    /// <summary>Whether <paramref name="path"/> is the management path or below it.</summary>
    public bool Contains(PathString path) => path.StartsWithSegments(Value, StringComparison.OrdinalIgnoreCase);
}
