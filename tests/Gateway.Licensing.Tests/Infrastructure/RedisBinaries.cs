using System.Diagnostics;

namespace Gateway.Licensing.Tests.Infrastructure;

/// <summary>
/// The <c>redis-server</c> and <c>redis-cli</c> programs the Redis fixtures run: the ones on PATH,
/// else a private copy that <see cref="RedisProvisioner"/> takes from the distribution's own packages
/// into a cache folder, once per machine (see README, "Test").
/// </summary>
internal sealed class RedisBinaries
{
    private static readonly Lazy<RedisBinaries> Shared = new(
        () => new RedisProvisioner(RedisProvisioner.DefaultCacheRoot, Environment.GetEnvironmentVariable("PATH") ?? "").Resolve(),
        LazyThreadSafetyMode.ExecutionAndPublication);

    public RedisBinaries(string server, string cli, string? libraryDirectory, RedisBinariesSource source)
    {
        Server = server;
        Cli = cli;
        LibraryDirectory = libraryDirectory;
        Source = source;
    }

    /// <summary>
    /// The binaries for this test process, resolved on first use. A failure (no Redis and no way to
    /// fetch it) is remembered: every fixture then fails at once with the same message.
    /// </summary>
    public static RedisBinaries Current => Shared.Value;

    /// <summary>Full path of <c>redis-server</c>.</summary>
    public string Server { get; }

    /// <summary>Full path of <c>redis-cli</c>.</summary>
    public string Cli { get; }

    /// <summary>
    /// A folder of shared libraries that the binaries need and the machine lacks (fetched with them);
    /// null when the machine has them all.
    /// </summary>
    public string? LibraryDirectory { get; }

    public RedisBinariesSource Source { get; }

    /// <summary>A start info for <paramref name="program"/> (<see cref="Server"/> or <see cref="Cli"/>) that finds its libraries.</summary>
    public ProcessStartInfo CreateStartInfo(string program)
    {
        var startInfo = new ProcessStartInfo(program) { UseShellExecute = false };
        if (LibraryDirectory is not null)
        {
            var inherited = Environment.GetEnvironmentVariable("LD_LIBRARY_PATH");
            startInfo.Environment["LD_LIBRARY_PATH"] =
                string.IsNullOrEmpty(inherited) ? LibraryDirectory : LibraryDirectory + Path.PathSeparator + inherited;
        }

        return startInfo;
    }

    /// <summary>The full path of <paramref name="name"/> in the directories of <paramref name="searchPath"/>, or null.</summary>
    public static string? FindOnPath(string name, string searchPath)
    {
        foreach (var dir in searchPath.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(dir, name);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }
}

internal enum RedisBinariesSource
{
    /// <summary>Both programs were on PATH.</summary>
    Path,

    /// <summary>A copy fetched earlier (by this or another process) was in the cache folder.</summary>
    Cache,

    /// <summary>This call fetched the copy into the cache folder.</summary>
    Fetched,
}
