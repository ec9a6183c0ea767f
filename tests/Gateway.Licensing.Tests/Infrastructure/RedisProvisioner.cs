using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.RegularExpressions;

namespace Gateway.Licensing.Tests.Infrastructure;

/// <summary>
/// Finds <c>redis-server</c> and <c>redis-cli</c> for the fixtures, so that <c>dotnet test</c> passes on
/// a Debian/Ubuntu machine that has only the .NET SDK: when they are not on PATH, it takes them from
/// the distribution's own packages, without root and without installing anything system-wide.
/// </summary>
/// <remarks>
/// <para>Fetching, once per machine (per distribution release and CPU) under a file lock, so test
/// assemblies running in parallel fetch once and the others wait and reuse it:</para>
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
internal sealed partial class RedisProvisioner
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
    public static string DefaultCacheRoot
    {
        get
        {
            var cacheHome = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
            if (string.IsNullOrEmpty(cacheHome))
            {
                var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
                cacheHome = string.IsNullOrEmpty(home) ? Path.Combine(Path.GetTempPath(), "seat-gateway-cache") : Path.Combine(home, ".cache");
            }

            return Path.Combine(cacheHome, "seat-gateway", "redis");
        }
    }

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
    public string CacheDirectory => Path.Combine(_cacheRoot, PlatformKey());

    /// <exception cref="RedisProvisioningException">No Redis on PATH and it could not be fetched.</exception>
    public RedisBinaries Resolve()
    {
        if (LookOnPath
            && RedisBinaries.FindOnPath("redis-server", _searchPath) is { } pathServer
            && RedisBinaries.FindOnPath("redis-cli", _searchPath) is { } pathCli)
        {
            return new RedisBinaries(pathServer, pathCli, RedisBinariesSource.Path);
        }

        var directory = CacheDirectory;
        if (TryReadManifest(directory) is { } cached)
        {
            return cached;
        }

        try
        {
            Directory.CreateDirectory(directory);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw Failure($"the cache folder {directory} cannot be created ({e.Message})");
        }

        using (AcquireLock(Path.Combine(directory, ".lock")))
        {
            // Another process may have fetched it while this one waited for the lock.
            if (TryReadManifest(directory) is { } fetchedMeanwhile)
            {
                return fetchedMeanwhile;
            }

            var log = new StringBuilder();
            try
            {
                Fetch(directory, log);
            }
            finally
            {
                TryWriteLog(directory, log);
            }

            return TryReadManifest(directory) is { } fetched
                ? new RedisBinaries(fetched.Server, fetched.Cli, RedisBinariesSource.Fetched)
                : throw Failure($"the fetched copy in {directory} is incomplete");
        }
    }

    private void Fetch(string directory, StringBuilder log)
    {
        Tool("apt-get"); // both fail early, naming what is missing
        var dpkgDeb = Tool("dpkg-deb");

        var work = Path.Combine(directory, "work");
        var root = Path.Combine(directory, "root");
        var lib = Path.Combine(directory, "lib");
        var bin = Path.Combine(directory, "bin");
        foreach (var stale in new[] { work, root, lib, bin, Path.Combine(directory, ManifestName) })
        {
            DeleteIfExists(stale);
        }

        Directory.CreateDirectory(lib);
        var apt = new Apt(this, work, log);

        var fetched = apt.Download(["redis-server", "redis-tools"], Path.Combine(work, "debs"));
        foreach (var deb in fetched)
        {
            Extract(dpkgDeb, deb, root, log);
        }

        var server = Path.Combine(root, "usr", "bin", "redis-server");
        var cli = Path.Combine(root, "usr", "bin", "redis-cli");
        if (!File.Exists(server) || !File.Exists(cli))
        {
            throw Failure("the packages redis-server and redis-tools hold no usr/bin/redis-server or usr/bin/redis-cli", log);
        }

        // Libraries the machine lacks: fetch the packages the binaries depend on, a level at a time,
        // and copy only the missing libraries out of them.
        var ldd = RedisBinaries.FindOnPath("ldd", _searchPath);
        var requested = new HashSet<string>(StringComparer.Ordinal) { "redis-server", "redis-tools" };
        for (var level = 1; ldd is not null; level++)
        {
            var missing = MissingLibraries(ldd, [server, cli], lib, log);
            if (missing.Count == 0)
            {
                break;
            }

            var dependencies = fetched
                .SelectMany(deb => LibraryDependencies(dpkgDeb, deb, log))
                .Where(requested.Add)
                .ToArray();
            if (dependencies.Length == 0 || level > 3)
            {
                throw Failure($"redis-server needs {string.Join(", ", missing)}, which the machine lacks and its packages did not provide", log);
            }

            var depsRoot = Path.Combine(work, $"deps-{level}");
            fetched = apt.Download(dependencies, Path.Combine(work, $"debs-{level}"));
            foreach (var deb in fetched)
            {
                Extract(dpkgDeb, deb, depsRoot, log);
            }

            foreach (var soname in missing)
            {
                var found = Directory.EnumerateFiles(depsRoot, soname, SearchOption.AllDirectories).FirstOrDefault();
                if (found is not null)
                {
                    File.Copy(found, Path.Combine(lib, soname), overwrite: true); // follows the soname's symlink
                    log.AppendLine($"copied {soname} from {Path.GetRelativePath(depsRoot, found)}");
                }
            }
        }

        if (Directory.EnumerateFileSystemEntries(lib).Any())
        {
            // Any code can then run the programs by their path alone, as it runs those on PATH.
            server = WriteLauncher(bin, server, lib);
            cli = WriteLauncher(bin, cli, lib);
        }

        foreach (var (program, expected) in new[] { (server, "Redis server v="), (cli, "redis-cli ") })
        {
            var run = Run(program, ["--version"], directory, null, TimeSpan.FromSeconds(30), log);
            if (run.ExitCode != 0 || !run.Output.Contains(expected, StringComparison.Ordinal))
            {
                throw Failure($"the fetched {Path.GetFileName(program)} does not run: {LastLines(run.Output, 5)}", log);
            }
        }

        WriteManifest(directory, server, cli);
        DeleteIfExists(work); // the packages and private package lists are no longer needed
    }

    private static void Extract(string dpkgDeb, string deb, string target, StringBuilder log)
    {
        Directory.CreateDirectory(target);
        var run = Run(dpkgDeb, ["-x", deb, target], target, null, TimeSpan.FromMinutes(2), log);
        if (run.ExitCode != 0)
        {
            throw Failure($"dpkg-deb -x {Path.GetFileName(deb)} failed: {LastLines(run.Output, 5)}", log);
        }
    }

    /// <summary>The sonames <c>ldd</c> reports as "not found" for any of <paramref name="programs"/>.</summary>
    private static List<string> MissingLibraries(string ldd, IEnumerable<string> programs, string lib, StringBuilder log)
    {
        var missing = new List<string>();
        foreach (var program in programs)
        {
            var run = Run(ldd, [program], lib, LibraryEnvironment(lib), TimeSpan.FromSeconds(30), log);
            foreach (Match match in NotFoundLibrary().Matches(run.Output))
            {
                if (!missing.Contains(match.Groups[1].Value))
                {
                    missing.Add(match.Groups[1].Value);
                }
            }
        }

        return missing;
    }

    /// <summary>
    /// The library packages (<c>lib*</c>, first of each set of alternatives) <paramref name="deb"/>
    /// depends on. Never the C library: the system's own must load everything.
    /// </summary>
    private static IEnumerable<string> LibraryDependencies(string dpkgDeb, string deb, StringBuilder log)
    {
        var run = Run(dpkgDeb, ["-f", deb, "Depends"], Path.GetDirectoryName(deb)!, null, TimeSpan.FromMinutes(1), log);
        return run.ExitCode != 0 ? [] : ParseDependencies(run.Output).Where(p => p.StartsWith("lib", StringComparison.Ordinal) && p != "libc6");
    }

    /// <summary>Package names of a Depends field: <c>a (>= 1), b | c, d:any</c> gives a, b, d.</summary>
    internal static IEnumerable<string> ParseDependencies(string depends) =>
        depends
            .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(alternatives => alternatives.Split('|')[0].Trim())
            .Select(first => first.Split([' ', '(', ':'], 2)[0])
            .Where(name => name.Length > 0);

    private static Dictionary<string, string> LibraryEnvironment(string libraryDirectory) =>
        new() { ["LD_LIBRARY_PATH"] = libraryDirectory };

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

    private string Tool(string name) =>
        RedisBinaries.FindOnPath(name, _searchPath)
        ?? throw Failure($"{name} is not on PATH, so Redis cannot be fetched from the distribution's packages (a Debian/Ubuntu machine has it)");

    private FileStream AcquireLock(string path)
    {
        var waited = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                // FileShare.None takes an exclusive flock on Unix: held until disposed or the process dies.
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (waited.Elapsed < LockTimeout)
            {
                Thread.Sleep(250);
            }
            catch (IOException e)
            {
                throw Failure($"another process has held {path} for over {LockTimeout} while fetching Redis ({e.Message})");
            }
        }
    }

    private RedisBinaries? TryReadManifest(string directory)
    {
        var manifest = Path.Combine(directory, ManifestName);
        if (!File.Exists(manifest))
        {
            return null;
        }

        var values = File.ReadAllLines(manifest)
            .Select(line => line.Split('=', 2))
            .Where(pair => pair.Length == 2)
            .ToDictionary(pair => pair[0], pair => pair[1], StringComparer.Ordinal);
        if (!values.TryGetValue("server", out var server) || !values.TryGetValue("cli", out var cli))
        {
            return null;
        }

        server = Path.Combine(directory, server);
        cli = Path.Combine(directory, cli);
        return File.Exists(server) && File.Exists(cli) ? new RedisBinaries(server, cli, RedisBinariesSource.Cache) : null;
    }

    private static void WriteManifest(string directory, string server, string cli)
    {
        var temporary = Path.Combine(directory, ManifestName + ".tmp");
        File.WriteAllLines(temporary, [
            $"server={Path.GetRelativePath(directory, server)}",
            $"cli={Path.GetRelativePath(directory, cli)}",
        ]);
        File.Move(temporary, Path.Combine(directory, ManifestName), overwrite: true); // ready only once complete
    }

    private static void TryWriteLog(string directory, StringBuilder log)
    {
        try
        {
            File.WriteAllText(Path.Combine(directory, "fetch.log"), log.ToString());
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // the log is a convenience; the exception carries the reason
        }
    }

    private static void DeleteIfExists(string path)
    {
        if (Directory.Exists(path))
        {
            Directory.Delete(path, recursive: true);
        }
        else if (File.Exists(path))
        {
            File.Delete(path);
        }
    }

    /// <summary><c>{ID}-{VERSION_ID}-{arch}</c> from /etc/os-release, e.g. <c>debian-12-x64</c>.</summary>
    private static string PlatformKey()
    {
        var id = "unknown";
        var version = "";
        try
        {
            foreach (var line in File.ReadLines("/etc/os-release"))
            {
                if (line.StartsWith("ID=", StringComparison.Ordinal))
                {
                    id = line[3..].Trim('"');
                }
                else if (line.StartsWith("VERSION_ID=", StringComparison.Ordinal))
                {
                    version = line[11..].Trim('"');
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }

        var key = $"{id}-{version}-{RuntimeInformation.OSArchitecture}".ToLowerInvariant();
        return string.Concat(key.Select(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' ? c : '_'));
    }

    internal static RedisProvisioningException Failure(string reason, StringBuilder? log = null) =>
        new($"redis-server and redis-cli are not on PATH, and the test fixtures could not fetch them: {reason}.{Environment.NewLine}" +
            InstallHint +
            (log is null ? "" : $"{Environment.NewLine}Last lines of the fetch log:{Environment.NewLine}{LastLines(log.ToString(), 15)}"));

    private static string LastLines(string text, int count) =>
        string.Join(Environment.NewLine, text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).TakeLast(count));

    internal readonly record struct RunResult(int ExitCode, string Output);

    /// <summary>Runs a program without stdin, stdout and stderr together, killed at <paramref name="timeout"/> (exit code -1).</summary>
    internal static RunResult Run(string program, IEnumerable<string> args, string workingDirectory, IReadOnlyDictionary<string, string>? environment, TimeSpan timeout, StringBuilder log)
    {
        var startInfo = new ProcessStartInfo(program)
        {
            UseShellExecute = false,
            WorkingDirectory = workingDirectory,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var arg in args)
        {
            startInfo.ArgumentList.Add(arg);
        }

        startInfo.Environment["DEBIAN_FRONTEND"] = "noninteractive";
        startInfo.Environment["LC_ALL"] = "C"; // messages in English, so they can be read and matched
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            startInfo.Environment[name] = value;
        }

        log.AppendLine($"$ {program} {string.Join(' ', startInfo.ArgumentList)}");
        var output = new StringBuilder();
        using var process = new Process { StartInfo = startInfo };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) { lock (output) { output.AppendLine(e.Data); } } };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { lock (output) { output.AppendLine(e.Data); } } };
        process.Start();
        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        var exited = process.WaitForExit(timeout);
        if (!exited)
        {
            try
            {
                process.Kill(entireProcessTree: true);
            }
            catch (InvalidOperationException)
            {
            }
        }

        process.WaitForExit(); // drains the output
        string text;
        lock (output)
        {
            text = exited ? output.ToString() : output + $"(killed: no answer within {timeout}){Environment.NewLine}";
        }

        log.Append(text);
        log.AppendLine($"(exit code {(exited ? process.ExitCode : -1)})");
        return new RunResult(exited ? process.ExitCode : -1, text);
    }

    [GeneratedRegex(@"^\s*(\S+)\s+=>\s+not found", RegexOptions.Multiline)]
    private static partial Regex NotFoundLibrary();

    /// <summary>apt-get download, first with the machine's package lists, then with private, fresh ones.</summary>
    private sealed class Apt(RedisProvisioner owner, string work, StringBuilder log)
    {
        private List<string>? _privateLists;
        private string? _updateProblems;

        /// <summary>Downloads <paramref name="packages"/> (the versions apt would install) into <paramref name="target"/>; returns the .deb files.</summary>
        public IReadOnlyList<string> Download(IReadOnlyList<string> packages, string target)
        {
            Directory.CreateDirectory(target);
            var run = owner.RunApt(["download", .. packages], target, _privateLists ?? [], log);
            if (run.ExitCode != 0 && _privateLists is null)
            {
                // The machine's lists are missing (container images delete them) or out of date, and
                // refreshing them needs root: fetch a private copy of the lists and try again.
                _privateLists = UpdatePrivateLists();
                ClearFolder(target);
                run = owner.RunApt(["download", .. packages], target, _privateLists, log);
            }

            var debs = Directory.GetFiles(target, "*.deb");
            if (run.ExitCode != 0 || debs.Length < packages.Count)
            {
                var download = run.ExitCode == -1
                    ? $"apt-get download {string.Join(' ', packages)} did not finish within {owner.CommandTimeout}"
                    : $"apt-get download {string.Join(' ', packages)} failed ({AptErrors(run.Output)})";
                throw Failure(_updateProblems is null ? download : $"apt-get update could not fetch the package lists ({_updateProblems}), so {download}", log);
            }

            return debs;
        }

        private List<string> UpdatePrivateLists()
        {
            var lists = Path.Combine(work, "apt", "lists");
            var cache = Path.Combine(work, "apt", "cache");
            Directory.CreateDirectory(Path.Combine(lists, "partial"));
            Directory.CreateDirectory(Path.Combine(cache, "archives", "partial"));
            List<string> options = ["-o", $"Dir::State::Lists={lists}", "-o", $"Dir::Cache={cache}", "-o", "Debug::NoLocking=true"];

            var run = owner.RunApt(["update"], work, options, log);
            var problems = run.Output.Split('\n')
                .Where(l => (l.StartsWith("W:", StringComparison.Ordinal) || l.StartsWith("E:", StringComparison.Ordinal)) && !l.Contains("Some index files failed", StringComparison.Ordinal))
                .ToArray();
            if (run.ExitCode != 0 || problems.Length > 0)
            {
                _updateProblems = run.ExitCode == -1
                    ? $"no answer within {owner.CommandTimeout}"
                    : string.Join(" ", problems.Take(3).Select(p => p.Trim()));
            }

            return options;
        }

        private static void ClearFolder(string folder)
        {
            foreach (var file in Directory.GetFiles(folder))
            {
                File.Delete(file);
            }
        }

        private static string AptErrors(string output)
        {
            var errors = output.Split('\n').Where(l => l.StartsWith("E:", StringComparison.Ordinal)).Select(l => l.Trim()).ToArray();
            return errors.Length > 0 ? string.Join(" ", errors.Take(3)) : LastLines(output, 3);
        }
    }

    private RunResult RunApt(IReadOnlyList<string> command, string workingDirectory, IReadOnlyList<string> ownOptions, StringBuilder log)
    {
        string[] args =
        [
            command[0], "-q",
            .. AptOptions,
            .. ownOptions,
            // As root apt downloads as the user _apt, who cannot write into a folder under /root: stay root.
            "-o", "APT::Sandbox::User=root",
            "-o", $"Acquire::http::Timeout={AptNetworkTimeoutSeconds}",
            "-o", $"Acquire::https::Timeout={AptNetworkTimeoutSeconds}",
            "-o", "Acquire::Retries=0",
            .. command.Skip(1),
        ];
        return Run(Tool("apt-get"), args, workingDirectory, null, CommandTimeout, log);
    }
}

/// <summary>No Redis on PATH, and fetching it failed; the message names what to install.</summary>
internal sealed class RedisProvisioningException(string message) : Exception(message);
