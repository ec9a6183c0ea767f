using System.Collections;
using System.Security;
using System.Text;
using Gateway.Licensing.Tests.Infrastructure;
using Microsoft.Playwright;

namespace Gateway.Tests.SeatConsole;

/// <summary>
/// Finds the Chromium the console's browser tests drive, so that <c>dotnet test</c> passes on a
/// Debian/Ubuntu machine that has only the .NET SDK: <c>CHROMIUM_PATH</c> when set, else the machine's
/// (<c>/usr/bin/chromium</c>, or <c>chromium</c> on PATH), else a private copy taken from the
/// distribution's own packages, without root, as the Redis fixtures take Redis
/// (<see cref="DebianPackageCache"/>).
/// </summary>
/// <remarks>
/// <para>Fetching, once per machine under the cache's file lock: <c>apt-get download chromium
/// chromium-common</c> and <c>dpkg-deb -x</c>; then, while <c>ldd</c> finds libraries missing for the
/// browser (<c>usr/lib/chromium/chromium</c>, its crash handler and the graphics libraries beside it),
/// the library packages they depend on that the machine has not installed, a level at a time, copying
/// only the missing libraries into <c>lib</c>, which goes on <c>LD_LIBRARY_PATH</c>. GTK is left out:
/// Chromium loads it only for native dialogs, which headless never shows. A machine without
/// fontconfig's configuration also gets fontconfig-config and the DejaVu fonts, and a configuration
/// naming them (<c>FONTCONFIG_FILE</c>), so pages have text to lay out.</para>
/// <para>Debian's <c>/usr/bin/chromium</c> is a shell script that execs <c>/usr/lib/chromium/chromium</c>
/// with flags from <c>/etc/chromium.d</c> (API keys, extensions, and <c>--disable-dev-shm-usage</c> when
/// /dev/shm is small, which Playwright passes itself); the copy runs the real program directly.</para>
/// <para><c>SEAT_GATEWAY_FETCH_CHROMIUM=1</c> ignores <c>CHROMIUM_PATH</c> and the machine's Chromium,
/// to try the fetched copy on a machine that has one.</para>
/// </remarks>
internal sealed class ChromiumProvisioner
{
    /// <summary>Set to 1 to use the fetched copy even when the machine has Chromium.</summary>
    public const string ForceFetchVariable = "SEAT_GATEWAY_FETCH_CHROMIUM";

    private const string ManifestName = "chromium.manifest";
    private const string InstallHint =
        "Install Chromium and run the tests again: 'sudo apt-get install -y chromium' on Debian/Ubuntu " +
        "(without sudo as root), or set CHROMIUM_PATH to a Chromium or Chrome executable.";

    private static readonly Lazy<ChromiumBrowser> Shared = new(
        () => new ChromiumProvisioner(DefaultCacheRoot, Environment.GetEnvironmentVariable("PATH") ?? "")
        {
            ConfiguredPath = Environment.GetEnvironmentVariable("CHROMIUM_PATH"),
            LookOnMachine = Environment.GetEnvironmentVariable(ForceFetchVariable) != "1",
        }.Resolve(),
        LazyThreadSafetyMode.ExecutionAndPublication);

    private readonly string _cacheRoot;
    private readonly string _searchPath;

    /// <param name="cacheRoot">Folder holding one fetched copy per distribution release and CPU.</param>
    /// <param name="searchPath">PATH to look for Chromium and for the tools (apt-get, dpkg-deb, ldd) in.</param>
    public ChromiumProvisioner(string cacheRoot, string searchPath)
    {
        _cacheRoot = cacheRoot;
        _searchPath = searchPath;
    }

    /// <summary>The browser for this test process, resolved on first use; a failure is remembered, so every fixture fails at once with it.</summary>
    public static ChromiumBrowser Current => Shared.Value;

    /// <summary><c>$XDG_CACHE_HOME/seat-gateway/chromium</c>, else <c>~/.cache/seat-gateway/chromium</c>.</summary>
    public static string DefaultCacheRoot => DebianPackageCache.DefaultCacheRoot("chromium");

    /// <summary>An explicit Chromium (<c>CHROMIUM_PATH</c>); used when set and <see cref="LookOnMachine"/>.</summary>
    public string? ConfiguredPath { get; init; }

    /// <summary>Use <see cref="ConfiguredPath"/> or the machine's Chromium when there is one (default true).</summary>
    public bool LookOnMachine { get; init; } = true;

    /// <summary>Where fontconfig's configuration is when the machine has it (default <c>/etc/fonts/fonts.conf</c>).</summary>
    public string SystemFontConfig { get; init; } = "/etc/fonts/fonts.conf";

    /// <summary>The cache's apt and time limits (defaults as <see cref="DebianPackageCache"/>'s).</summary>
    public IReadOnlyList<string> AptOptions { get; init; } = [];

    public string CacheDirectory => Cache.CacheDirectory;

    private DebianPackageCache Cache => new(_cacheRoot, _searchPath, "Chromium", Failure) { AptOptions = AptOptions };

    /// <exception cref="ChromiumProvisioningException">No Chromium on the machine and it could not be fetched.</exception>
    public ChromiumBrowser Resolve()
    {
        if (LookOnMachine)
        {
            if (!string.IsNullOrEmpty(ConfiguredPath))
            {
                return File.Exists(ConfiguredPath)
                    ? new ChromiumBrowser(ConfiguredPath, new Dictionary<string, string>(), ChromiumSource.Machine)
                    : throw new ChromiumProvisioningException($"CHROMIUM_PATH is {ConfiguredPath}, which does not exist. {InstallHint}");
            }

            if ((File.Exists("/usr/bin/chromium") ? "/usr/bin/chromium" : DebianPackageCache.FindOnPath("chromium", _searchPath)) is { } machine)
            {
                return new ChromiumBrowser(machine, new Dictionary<string, string>(), ChromiumSource.Machine);
            }
        }

        var (browser, fetched) = Cache.GetOrFetch(TryReadManifest, Fetch);
        return fetched ? browser with { Source = ChromiumSource.Fetched } : browser;
    }

    private void Fetch(DebianPackageCache.Fetch fetch)
    {
        var directory = fetch.Directory;
        var root = Path.Combine(directory, "root");
        var lib = Path.Combine(directory, "lib");
        var fontConfig = Path.Combine(directory, "fonts.conf");
        foreach (var stale in new[] { root, lib, fontConfig, Path.Combine(directory, "fontconfig-cache"), Path.Combine(directory, ManifestName) })
        {
            DebianPackageCache.DeleteIfExists(stale);
        }

        string[] packages = ["chromium", "chromium-common"];
        var debs = fetch.Download(packages, Path.Combine(fetch.Work, "debs"));
        fetch.Extract(debs, root);

        var libexec = Path.Combine(root, "usr", "lib", "chromium");
        var executable = Path.Combine(libexec, "chromium");
        if (!File.Exists(executable))
        {
            throw fetch.Fail("the package chromium holds no usr/lib/chromium/chromium");
        }

        var programs = new[] { executable, Path.Combine(libexec, "chrome_crashpad_handler") }
            .Concat(Directory.EnumerateFiles(libexec, "*.so*").Where(f => !f.EndsWith(".TOC", StringComparison.Ordinal)))
            .Where(File.Exists)
            .ToArray();
        var copied = fetch.ProvideMissingLibraries(programs, debs, packages, lib, maxLevels: 10,
            wanted: package => package != "libgtk-3-0" && !fetch.IsInstalled(package));

        var environment = new Dictionary<string, string>();
        if (copied > 0)
        {
            environment["LD_LIBRARY_PATH"] = Path.GetRelativePath(directory, lib);
        }

        if (!File.Exists(SystemFontConfig))
        {
            var fonts = Path.Combine(root, "usr", "share", "fonts");
            fetch.Extract(fetch.Download(["fontconfig-config", "fonts-dejavu-core"], Path.Combine(fetch.Work, "fonts")), root);
            File.WriteAllText(fontConfig,
                "<?xml version=\"1.0\"?>\n<!DOCTYPE fontconfig SYSTEM \"urn:fontconfig:fonts.dtd\">\n<fontconfig>\n" +
                $"  <dir>{SecurityElement.Escape(fonts)}</dir>\n" +
                $"  <cachedir>{SecurityElement.Escape(Path.Combine(directory, "fontconfig-cache"))}</cachedir>\n" +
                "</fontconfig>\n");
            environment["FONTCONFIG_FILE"] = Path.GetRelativePath(directory, fontConfig);
        }

        var browser = new ChromiumBrowser(executable, Absolute(directory, environment), ChromiumSource.Fetched);
        var run = DebianPackageCache.Run(executable, ["--version"], directory, browser.Environment, TimeSpan.FromSeconds(60), fetch.Log);
        if (run.ExitCode != 0 || !run.Output.Contains("Chromium ", StringComparison.Ordinal))
        {
            throw fetch.Fail($"the fetched chromium does not run: {DebianPackageCache.LastLines(run.Output, 5)}");
        }

        DebianPackageCache.WriteManifest(Path.Combine(directory, ManifestName),
            environment.Select(pair => KeyValuePair.Create("env." + pair.Key, pair.Value))
                .Prepend(KeyValuePair.Create("executable", Path.GetRelativePath(directory, executable))));
        fetch.Complete();
    }

    private static ChromiumBrowser? TryReadManifest(string directory)
    {
        var values = DebianPackageCache.ReadManifest(Path.Combine(directory, ManifestName));
        if (values is null || !values.TryGetValue("executable", out var executable))
        {
            return null;
        }

        executable = Path.Combine(directory, executable);
        var environment = values
            .Where(pair => pair.Key.StartsWith("env.", StringComparison.Ordinal))
            .ToDictionary(pair => pair.Key[4..], pair => pair.Value, StringComparer.Ordinal);
        return File.Exists(executable) ? new ChromiumBrowser(executable, Absolute(directory, environment), ChromiumSource.Cache) : null;
    }

    /// <summary>The manifest keeps paths relative to the cache folder, so the folder can move.</summary>
    private static Dictionary<string, string> Absolute(string directory, Dictionary<string, string> environment) =>
        environment.ToDictionary(pair => pair.Key, pair => Path.Combine(directory, pair.Value), StringComparer.Ordinal);

    private static ChromiumProvisioningException Failure(string reason, StringBuilder? log) =>
        new($"The console's browser tests need Chromium; there is none on this machine, and the test fixtures could not fetch it: {reason}.{Environment.NewLine}" +
            InstallHint +
            (log is null ? "" : $"{Environment.NewLine}Last lines of the fetch log:{Environment.NewLine}{DebianPackageCache.LastLines(log.ToString(), 15)}"));
}

/// <summary>A Chromium to launch: its executable and the environment it needs beyond the test process's own.</summary>
internal sealed record ChromiumBrowser(string ExecutablePath, IReadOnlyDictionary<string, string> Environment, ChromiumSource Source)
{
    /// <summary>Playwright's launch options for it (headless, Playwright's defaults otherwise).</summary>
    public BrowserTypeLaunchOptions LaunchOptions()
    {
        var options = new BrowserTypeLaunchOptions { ExecutablePath = ExecutablePath };
        if (Environment.Count > 0)
        {
            // Playwright replaces the browser's whole environment with Env: start from the process's own.
            var merged = System.Environment.GetEnvironmentVariables()
                .Cast<DictionaryEntry>()
                .ToDictionary(entry => (string)entry.Key, entry => (string?)entry.Value ?? "", StringComparer.Ordinal);
            foreach (var (name, value) in Environment)
            {
                merged[name] = name == "LD_LIBRARY_PATH" && merged.TryGetValue(name, out var existing) && existing.Length > 0
                    ? $"{value}{Path.PathSeparator}{existing}"
                    : value;
            }

            options.Env = merged;
        }

        return options;
    }
}

internal enum ChromiumSource
{
    /// <summary><c>CHROMIUM_PATH</c>, or the machine's own Chromium.</summary>
    Machine,

    /// <summary>A copy fetched earlier (by this or another process) was in the cache folder.</summary>
    Cache,

    /// <summary>This call fetched the copy into the cache folder.</summary>
    Fetched,
}

/// <summary>No Chromium on the machine, and fetching it failed; the message names what to install.</summary>
internal sealed class ChromiumProvisioningException(string message) : Exception(message);
