using System.Text;

namespace Gateway.Licensing.Tests.Infrastructure;

/// <summary>
/// Finds <c>redis-server</c> and <c>redis-cli</c> for the fixtures, so that <c>dotnet test</c> passes on
/// a Debian/Ubuntu machine that has only the .NET SDK: when they are not on PATH, it takes them from
/// the distribution's own packages, without root and without installing anything system-wide.
/// </summary>
/// <remarks>
/// <para>Fetching, once per machine (per distribution release and CPU) under a file lock, so test
/// assemblies running in parallel fetch once and the others wait and reuse it (the means are
/// <see cref="DebianPackageCache"/>'s, shared with the console tests' Chromium):</para>
/// <list type="number">
/// <item><c>apt-get download redis-server redis-tools</c> into the cache folder; when the machine's
/// package lists cannot serve them (container images delete them; no root to refresh them), the same
/// after <c>apt-get update</c> into private lists inside the cache folder, which needs no root;</item>
/// <item><c>dpkg-deb -x</c> of each package into the cache folder;</item>
/// <item><c>ldd</c> names the shared libraries the binaries need and the machine lacks (a fresh Debian
/// lacks libjemalloc2 and liblzf1): their packages (the binaries' library dependencies) are fetched
/// the same way, and only the missing libraries are copied into a folder of their own; then
/// <c>redis-server</c> and <c>redis-cli</c> are small launchers that put that folder on
/// <c>LD_LIBRARY_PATH</c> and exec the real programs, so callers need not know;</item>
/// <item>both programs must then answer <c>--version</c>; only then is the copy recorded as ready.</item>
/// </list>
/// <para>Every command runs without stdin, with apt's network timeouts short and a hard time limit, so
/// a machine that cannot reach apt's mirrors gets a clear error (naming what to install) instead of a
/// hang. The log of the last fetch is <c>fetch.log</c> in the cache folder; deleting the folder makes
/// the next run fetch again.</para>
/// </remarks>
internal sealed class RedisProvisioner
{
    private const string ManifestName = "redis.manifest";
    private const string InstallHint =
        "Install Redis and run the tests again: 'sudo apt-get install -y redis-server' on Debian/Ubuntu " +
        "(without sudo as root), or put redis-server and redis-cli (Redis 7) on PATH.";

    private readonly string _cacheRoot;
    private readonly string _searchPath;

    /// <param name="cacheRoot">Folder holding one fetched copy per distribution release and CPU.</param>
    /// <param name="searchPath">PATH to look for Redis and for the tools (apt-get, dpkg-deb, ldd) in.</param>
    public RedisProvisioner(string cacheRoot, string searchPath)
    {
        _cacheRoot = cacheRoot;
        _searchPath = searchPath;
    }

    /// <summary>
    /// <c>$XDG_CACHE_HOME/seat-gateway/redis</c>, else <c>~/.cache/seat-gateway/redis</c>, else a folder
    /// under the system temp path: outside the repository, so every clone on the machine shares it.
    /// </summary>
    public static string DefaultCacheRoot => DebianPackageCache.DefaultCacheRoot("redis");

    /// <summary>Use <c>redis-server</c>/<c>redis-cli</c> from PATH when both are there (default true).</summary>
    public bool LookOnPath { get; init; } = true;

    /// <summary>apt options put before the provisioner's own (<c>-o Name=Value</c> pairs); tests point apt elsewhere with them.</summary>
    public IReadOnlyList<string> AptOptions { get; init; } = [];

    /// <summary>apt's connect/read timeout per download, in seconds (default 30).</summary>
    public int AptNetworkTimeoutSeconds { get; init; } = 30;

    /// <summary>Time limit of each command (apt-get update, download, ...); killed past it (default 5 minutes).</summary>
    public TimeSpan CommandTimeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>How long to wait for another process that is fetching into the same folder (default 15 minutes).</summary>
    public TimeSpan LockTimeout { get; init; } = TimeSpan.FromMinutes(15);

    /// <summary>The folder of this machine's copy: one per distribution release and CPU.</summary>
    public string CacheDirectory => Cache.CacheDirectory;

    private DebianPackageCache Cache => new(_cacheRoot, _searchPath, "Redis", Failure)
    {
        AptOptions = AptOptions,
        AptNetworkTimeoutSeconds = AptNetworkTimeoutSeconds,
        CommandTimeout = CommandTimeout,
        LockTimeout = LockTimeout,
    };

    /// <exception cref="RedisProvisioningException">No Redis on PATH and it could not be fetched.</exception>
    public RedisBinaries Resolve()
    {
        if (LookOnPath
            && RedisBinaries.FindOnPath("redis-server", _searchPath) is { } pathServer
            && RedisBinaries.FindOnPath("redis-cli", _searchPath) is { } pathCli)
        {
            return new RedisBinaries(pathServer, pathCli, RedisBinariesSource.Path);
        }

        var (binaries, fetched) = Cache.GetOrFetch(TryReadManifest, Fetch);
        return fetched ? new RedisBinaries(binaries.Server, binaries.Cli, RedisBinariesSource.Fetched) : binaries;
    }

    private static void Fetch(DebianPackageCache.Fetch fetch)
    {
        var directory = fetch.Directory;
        var root = Path.Combine(directory, "root");
        var lib = Path.Combine(directory, "lib");
        var bin = Path.Combine(directory, "bin");
        foreach (var stale in new[] { root, lib, bin, Path.Combine(directory, ManifestName) })
        {
            DebianPackageCache.DeleteIfExists(stale);
        }

        string[] packages = ["redis-server", "redis-tools"];
        var debs = fetch.Download(packages, Path.Combine(fetch.Work, "debs"));
        fetch.Extract(debs, root);

        var server = Path.Combine(root, "usr", "bin", "redis-server");
        var cli = Path.Combine(root, "usr", "bin", "redis-cli");
        if (!File.Exists(server) || !File.Exists(cli))
        {
            throw fetch.Fail("the packages redis-server and redis-tools hold no usr/bin/redis-server or usr/bin/redis-cli");
        }

        // A fresh Debian lacks libjemalloc2 and liblzf1: only those libraries are copied into lib.
        if (fetch.ProvideMissingLibraries([server, cli], debs, packages, lib, maxLevels: 3, wanted: _ => true) > 0)
        {
            // Any code can then run the programs by their path alone, as it runs those on PATH.
            server = WriteLauncher(bin, server, lib);
            cli = WriteLauncher(bin, cli, lib);
        }

        foreach (var (program, expected) in new[] { (server, "Redis server v="), (cli, "redis-cli ") })
        {
            var run = DebianPackageCache.Run(program, ["--version"], directory, null, TimeSpan.FromSeconds(30), fetch.Log);
            if (run.ExitCode != 0 || !run.Output.Contains(expected, StringComparison.Ordinal))
            {
                throw fetch.Fail($"the fetched {Path.GetFileName(program)} does not run: {DebianPackageCache.LastLines(run.Output, 5)}");
            }
        }

        DebianPackageCache.WriteManifest(Path.Combine(directory, ManifestName), [
            new("server", Path.GetRelativePath(directory, server)),
            new("cli", Path.GetRelativePath(directory, cli)),
        ]);
        fetch.Complete();
    }

    /// <summary>
    /// A script of the program's name in <paramref name="bin"/> that puts <paramref name="lib"/> first
    /// on <c>LD_LIBRARY_PATH</c> and execs <paramref name="program"/> (same process id and name, so
    /// killing or finding it by name works as for the real program).
    /// </summary>
    private static string WriteLauncher(string bin, string program, string lib)
    {
        Directory.CreateDirectory(bin);
        var launcher = Path.Combine(bin, Path.GetFileName(program));
        File.WriteAllText(launcher,
            "#!/bin/sh\n" +
            $"LD_LIBRARY_PATH={ShellQuote(lib)}${{LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}} exec {ShellQuote(program)} \"$@\"\n");
        if (!OperatingSystem.IsWindows()) // always so: only Debian/Ubuntu get here
        {
            File.SetUnixFileMode(launcher, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
                | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        }
        return launcher;
    }

    private static string ShellQuote(string value) => "'" + value.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    private static RedisBinaries? TryReadManifest(string directory)
    {
        var values = DebianPackageCache.ReadManifest(Path.Combine(directory, ManifestName));
        if (values is null || !values.TryGetValue("server", out var server) || !values.TryGetValue("cli", out var cli))
        {
            return null;
        }

        server = Path.Combine(directory, server);
        cli = Path.Combine(directory, cli);
        return File.Exists(server) && File.Exists(cli) ? new RedisBinaries(server, cli, RedisBinariesSource.Cache) : null;
    }

    internal static RedisProvisioningException Failure(string reason, StringBuilder? log = null) =>
        new($"redis-server and redis-cli are not on PATH, and the test fixtures could not fetch them: {reason}.{Environment.NewLine}" +
            InstallHint +
            (log is null ? "" : $"{Environment.NewLine}Last lines of the fetch log:{Environment.NewLine}{DebianPackageCache.LastLines(log.ToString(), 15)}"));
}

/// <summary>No Redis on PATH, and fetching it failed; the message names what to install.</summary>
internal sealed class RedisProvisioningException(string message) : Exception(message);
