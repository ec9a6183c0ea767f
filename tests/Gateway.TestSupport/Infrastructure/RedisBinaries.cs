namespace Gateway.Licensing.Tests.Infrastructure;

/// <summary>
/// The <c>redis-server</c> and <c>redis-cli</c> programs the Redis fixtures run: the ones on PATH,
/// else a private copy that <see cref="RedisProvisioner"/> takes from the distribution's own packages
/// into a cache folder, once per machine (see docs/development.md, "Running the tests").
/// </summary>
internal sealed class RedisBinaries
{
    private static readonly Lazy<RedisBinaries> Shared = new(
        () => new RedisProvisioner(RedisProvisioner.DefaultCacheRoot, Environment.GetEnvironmentVariable("PATH") ?? "").Resolve(),
        LazyThreadSafetyMode.ExecutionAndPublication);

    public RedisBinaries(string server, string cli, RedisBinariesSource source)
    {
        Server = server;
        Cli = cli;
        Source = source;
    }

    /// <summary>
    /// The binaries for this test process, resolved on first use. A failure (no Redis and no way to
    /// fetch it) is remembered: every fixture then fails at once with the same message.
    /// </summary>
    public static RedisBinaries Current => Shared.Value;

    /// <summary>
    /// Full path of <c>redis-server</c>: run it as it is (a fetched copy that needs libraries the
    /// machine lacks is a small script that sets <c>LD_LIBRARY_PATH</c> and execs the real program).
    /// </summary>
    public string Server { get; }

    /// <summary>Full path of <c>redis-cli</c>, runnable as it is like <see cref="Server"/>.</summary>
    public string Cli { get; }

    public RedisBinariesSource Source { get; }

    /// <summary>The full path of <paramref name="name"/> in the directories of <paramref name="searchPath"/>, or null.</summary>
    public static string? FindOnPath(string name, string searchPath) => DebianPackageCache.FindOnPath(name, searchPath);
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
