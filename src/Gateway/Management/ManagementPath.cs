using Gateway.Licensing.Options;
using Microsoft.Extensions.Options;

namespace Gateway.Management;

/// <summary><c>Licensing:ManagementPath</c> as a <see cref="PathString"/>, rebuilt only when the options change.</summary>
internal sealed class ManagementPath(IOptionsMonitor<LicensingOptions> options)
{
    private Compiled? _current;

    public PathString Value
    {
        get
        {
            var source = options.CurrentValue;
            var current = Volatile.Read(ref _current);
            if (current is null || !ReferenceEquals(current.Source, source))
            {
                current = new Compiled(source, new PathString(source.ManagementPath));
                Volatile.Write(ref _current, current);
            }
            return current.Path;
        }
    }

    /// <summary>Whether <paramref name="path"/> is the management path or below it.</summary>
    public bool Contains(PathString path) => path.StartsWithSegments(Value, StringComparison.OrdinalIgnoreCase);

    private sealed record Compiled(LicensingOptions Source, PathString Path);
}
