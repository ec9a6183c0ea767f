using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.RegularExpressions;

namespace Gateway.Licensing.Tests.Infrastructure;

/// <summary>
/// A per-machine copy of programs taken from the distribution's own packages, for tools the tests need
/// and a machine with only the .NET SDK lacks (Redis, Chromium): no root, nothing installed system-wide.
/// </summary>
/// <remarks>
/// <para>One folder per distribution release and CPU under the cache root; a fetch runs under a file
/// lock, so test processes running in parallel fetch once and the others wait and reuse it. The
/// caller's fetch step decides when the copy is complete (it writes a manifest last); this class gives
/// it the means: <c>apt-get download</c> (with private package lists when the machine's cannot serve
/// the packages: container images delete them, and refreshing them needs root), <c>dpkg-deb -x</c>,
/// and the libraries <c>ldd</c> finds missing, taken from the packages' library dependencies.</para>
/// <para>Every command runs without stdin, with apt's network timeouts short and a hard time limit, so
/// a machine that cannot reach apt's mirrors gets a clear error instead of a hang. The log of the last
/// fetch is <c>fetch.log</c> in the folder; deleting the folder makes the next run fetch again.</para>
/// </remarks>
internal sealed partial class DebianPackageCache
{
    private readonly string _cacheRoot;
    private readonly string _what;
    private readonly Func<string, StringBuilder?, Exception> _failure;

    /// <param name="cacheRoot">Folder holding one copy per distribution release and CPU.</param>
    /// <param name="searchPath">PATH to look for the tools (apt-get, dpkg-deb, dpkg-query, ldd) in.</param>
    /// <param name="what">What is fetched, for messages ("Redis").</param>
    /// <param name="failure">The caller's exception for a reason and the fetch log so far (which may be null); its message should name what to install.</param>
    public DebianPackageCache(string cacheRoot, string searchPath, string what, Func<string, StringBuilder?, Exception> failure)
    {
        _cacheRoot = cacheRoot;
        SearchPath = searchPath;
        _what = what;
        _failure = failure;
    }

    public string SearchPath { get; }

    /// <summary>apt options put before the cache's own (<c>-o Name=Value</c> pairs); tests point apt elsewhere with them.</summary>
    public IReadOnlyList<string> AptOptions { get; init; } = [];

    /// <summary>apt's connect/read timeout per download, in seconds (default 30).</summary>
    public int AptNetworkTimeoutSeconds { get; init; } = 30;

    /// <summary>Time limit of each command (apt-get update, download, ...); killed past it (default 5 minutes).</summary>
    public TimeSpan CommandTimeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>How long to wait for another process that is fetching into the same folder (default 15 minutes).</summary>
    public TimeSpan LockTimeout { get; init; } = TimeSpan.FromMinutes(15);

    /// <summary>The folder of this machine's copy: one per distribution release and CPU.</summary>
    public string CacheDirectory => Path.Combine(_cacheRoot, PlatformKey());

    /// <summary>
    /// <c>$XDG_CACHE_HOME/seat-gateway/{name}</c>, else <c>~/.cache/seat-gateway/{name}</c>, else a folder
    /// under the system temp path: outside the repository, so every clone on the machine shares it.
    /// </summary>
    public static string DefaultCacheRoot(string name)
    {
        var cacheHome = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        if (string.IsNullOrEmpty(cacheHome))
        {
            var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
            cacheHome = string.IsNullOrEmpty(home) ? Path.Combine(Path.GetTempPath(), "seat-gateway-cache") : Path.Combine(home, ".cache");
        }

        return Path.Combine(cacheHome, "seat-gateway", name);
    }

    /// <summary>
    /// The ready copy (<paramref name="readReady"/> of the folder gives it, or null while there is none);
    /// else <paramref name="fetch"/> makes it, once, under the folder's lock.
    /// </summary>
    /// <returns>The copy, and whether this call fetched it.</returns>
    public (T Value, bool Fetched) GetOrFetch<T>(Func<string, T?> readReady, Action<Fetch> fetch) where T : class
    {
        var directory = CacheDirectory;
        if (readReady(directory) is { } cached)
        {
            return (cached, false);
        }

        try
        {
            Directory.CreateDirectory(directory);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw _failure($"the cache folder {directory} cannot be created ({e.Message})", null);
        }

        using (AcquireLock(Path.Combine(directory, ".lock")))
        {
            // Another process may have fetched it while this one waited for the lock.
            if (readReady(directory) is { } fetchedMeanwhile)
            {
                return (fetchedMeanwhile, false);
            }

            var log = new StringBuilder();
            try
            {
                fetch(new Fetch(this, directory, log));
            }
            finally
            {
                TryWriteLog(directory, log);
            }

            return readReady(directory) is { } fetched
                ? (fetched, true)
                : throw _failure($"the fetched copy in {directory} is incomplete", log);
        }
    }

    /// <summary>One fetch into the cache folder, with its log.</summary>
    internal sealed class Fetch
    {
        private readonly DebianPackageCache _owner;
        private readonly string _dpkgDeb;
        private readonly Apt _apt;

        internal Fetch(DebianPackageCache owner, string directory, StringBuilder log)
        {
            _owner = owner;
            Directory = directory;
            Log = log;
            owner.Tool("apt-get"); // both fail early, naming what is missing
            _dpkgDeb = owner.Tool("dpkg-deb");
            Work = Path.Combine(directory, "work");
            DeleteIfExists(Work);
            _apt = new Apt(owner, Work, log);
        }

        /// <summary>The cache folder.</summary>
        public string Directory { get; }

        /// <summary>Scratch folder for packages and package lists; <see cref="Complete"/> deletes it.</summary>
        public string Work { get; }

        public StringBuilder Log { get; }

        /// <summary>The caller's exception, with the log's last lines.</summary>
        public Exception Fail(string reason) => _owner._failure(reason, Log);

        /// <summary>Downloads <paramref name="packages"/> (the versions apt would install) into <paramref name="target"/>; returns the .deb files.</summary>
        public IReadOnlyList<string> Download(IReadOnlyList<string> packages, string target) => _apt.Download(packages, target);

        /// <summary><c>dpkg-deb -x</c> of each package into <paramref name="target"/>.</summary>
        public void Extract(IEnumerable<string> debs, string target)
        {
            System.IO.Directory.CreateDirectory(target);
            foreach (var deb in debs)
            {
                var run = Run(_dpkgDeb, ["-x", deb, target], target, null, TimeSpan.FromMinutes(2), Log);
                if (run.ExitCode != 0)
                {
                    throw Fail($"dpkg-deb -x {Path.GetFileName(deb)} failed: {LastLines(run.Output, 5)}");
                }
            }
        }

        /// <summary>
        /// Makes <paramref name="programs"/> find every shared library with <paramref name="lib"/> on
        /// <c>LD_LIBRARY_PATH</c>: while <c>ldd</c> reports libraries not found, fetches the library
        /// packages (<c>lib*</c>, never the C library) that the packages of the previous level depend on
        /// and <paramref name="wanted"/> accepts, a level at a time from <paramref name="debs"/>, and copies
        /// only the missing libraries out of them into <paramref name="lib"/>. Without <c>ldd</c> nothing is done.
        /// </summary>
        /// <param name="requested">Packages already fetched (never fetched again).</param>
        /// <returns>How many libraries were copied.</returns>
        public int ProvideMissingLibraries(IReadOnlyList<string> programs, IReadOnlyList<string> debs, IEnumerable<string> requested, string lib, int maxLevels, Func<string, bool> wanted)
        {
            System.IO.Directory.CreateDirectory(lib);
            var ldd = FindOnPath("ldd", _owner.SearchPath);
            var asked = new HashSet<string>(requested, StringComparer.Ordinal);
            var extracted = new List<string>();
            var copied = 0;
            for (var level = 1; ldd is not null; level++)
            {
                var missing = MissingLibraries(ldd, programs, lib);
                if (missing.Count == 0)
                {
                    break;
                }

                // A library found missing only now may ship in a package fetched at an earlier level,
                // beside the library that needs it (libpulse0 keeps libpulsecommon in a folder of its own,
                // which its RUNPATH names on an installed system but not in this copy).
                var fromEarlier = CopyMissing(extracted, missing, lib);
                if (fromEarlier > 0)
                {
                    copied += fromEarlier;
                    continue;
                }

                var dependencies = debs
                    .SelectMany(LibraryDependencies)
                    .Distinct(StringComparer.Ordinal)
                    .Where(p => !asked.Contains(p) && wanted(p))
                    .ToArray();
                asked.UnionWith(dependencies);
                if (dependencies.Length == 0 || level > maxLevels)
                {
                    throw Fail($"{Path.GetFileName(programs[0])} needs {string.Join(", ", missing)}, which the machine lacks and its packages did not provide");
                }

                var depsRoot = Path.Combine(Work, $"deps-{level}");
                debs = Download(dependencies, Path.Combine(Work, $"debs-{level}"));
                Extract(debs, depsRoot);
                extracted.Add(depsRoot);
                copied += CopyMissing([depsRoot], missing, lib);
            }

            return copied;
        }

        /// <summary>Copies each of <paramref name="missing"/> found under one of <paramref name="roots"/> into <paramref name="lib"/>; returns how many.</summary>
        private int CopyMissing(IEnumerable<string> roots, IEnumerable<string> missing, string lib)
        {
            var copied = 0;
            // One already copied and still reported missing needs something else: copying it again cannot help.
            foreach (var soname in missing.Where(s => !File.Exists(Path.Combine(lib, s))))
            {
                foreach (var root in roots)
                {
                    var found = System.IO.Directory.EnumerateFiles(root, soname, SearchOption.AllDirectories).FirstOrDefault();
                    if (found is null) continue;
                    File.Copy(found, Path.Combine(lib, soname), overwrite: true); // follows the soname's symlink
                    Log.AppendLine($"copied {soname} from {Path.GetRelativePath(root, found)}");
                    copied++;
                    break;
                }
            }

            return copied;
        }

        /// <summary>Whether dpkg has <paramref name="package"/> installed on this machine.</summary>
        public bool IsInstalled(string package)
        {
            if (FindOnPath("dpkg-query", _owner.SearchPath) is not { } dpkgQuery)
            {
                return false;
            }

            var run = Run(dpkgQuery, ["-W", "-f=${db:Status-Status}", package], Directory, null, TimeSpan.FromSeconds(30), new StringBuilder());
            return run.ExitCode == 0 && run.Output.Trim() == "installed";
        }

        /// <summary>Deletes the scratch folder: the packages and private package lists are no longer needed.</summary>
        public void Complete() => DeleteIfExists(Work);

        /// <summary>The sonames <c>ldd</c> reports as "not found" for any of <paramref name="programs"/>.</summary>
        private List<string> MissingLibraries(string ldd, IEnumerable<string> programs, string lib)
        {
            var missing = new List<string>();
            foreach (var program in programs)
            {
                var run = Run(ldd, [program], lib, new Dictionary<string, string> { ["LD_LIBRARY_PATH"] = lib }, TimeSpan.FromSeconds(30), Log);
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
        private IEnumerable<string> LibraryDependencies(string deb)
        {
            var run = Run(_dpkgDeb, ["-f", deb, "Depends"], Path.GetDirectoryName(deb)!, null, TimeSpan.FromMinutes(1), Log);
            return run.ExitCode != 0 ? [] : ParseDependencies(run.Output).Where(p => p.StartsWith("lib", StringComparison.Ordinal) && p != "libc6");
        }
    }

    /// <summary>Package names of a Depends field: <c>a (>= 1), b | c, d:any</c> gives a, b, d.</summary>
    internal static IEnumerable<string> ParseDependencies(string depends) =>
        depends
            .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(alternatives => alternatives.Split('|')[0].Trim())
            .Select(first => first.Split([' ', '(', ':'], 2)[0])
            .Where(name => name.Length > 0);

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

    public static void DeleteIfExists(string path)
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

    /// <summary>Writes <c>name=value</c> lines to <paramref name="path"/> in one step, so a reader sees all or nothing.</summary>
    public static void WriteManifest(string path, IEnumerable<KeyValuePair<string, string>> values)
    {
        var temporary = path + ".tmp";
        File.WriteAllLines(temporary, values.Select(pair => $"{pair.Key}={pair.Value}"));
        File.Move(temporary, path, overwrite: true);
    }

    /// <summary>The <c>name=value</c> lines of <paramref name="path"/>, or null when there is no such file.</summary>
    public static Dictionary<string, string>? ReadManifest(string path) =>
        !File.Exists(path)
            ? null
            : File.ReadAllLines(path)
                .Select(line => line.Split('=', 2))
                .Where(pair => pair.Length == 2)
                .ToDictionary(pair => pair[0], pair => pair[1], StringComparer.Ordinal);

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

    internal static string LastLines(string text, int count) =>
        string.Join(Environment.NewLine, text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).TakeLast(count));

    private string Tool(string name) =>
        FindOnPath(name, SearchPath)
        ?? throw _failure($"{name} is not on PATH, so {_what} cannot be fetched from the distribution's packages (a Debian/Ubuntu machine has it)", null);

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
                throw _failure($"another process has held {path} for over {LockTimeout} while fetching {_what} ({e.Message})", null);
            }
        }
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

    [GeneratedRegex(@"^\s*(\S+)\s+=>\s+not found", RegexOptions.Multiline)]
    private static partial Regex NotFoundLibrary();

    /// <summary>apt-get download, first with the machine's package lists, then with private, fresh ones.</summary>
    private sealed class Apt(DebianPackageCache owner, string work, StringBuilder log)
    {
        private List<string>? _privateLists;
        private string? _updateProblems;

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
                throw owner._failure(_updateProblems is null ? download : $"apt-get update could not fetch the package lists ({_updateProblems}), so {download}", log);
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
