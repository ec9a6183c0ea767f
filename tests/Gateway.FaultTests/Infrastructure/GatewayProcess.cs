using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Reflection;
using System.Text;
using Gateway.Licensing.Tests.Infrastructure;

namespace Gateway.FaultTests.Infrastructure;

/// <summary>
/// The built gateway (<c>dotnet Gateway.dll</c>) as a separate OS process on a free loopback port, in
/// the <c>Production</c> environment, configured only through environment variables
/// (<see cref="GatewaySettings"/>). Its stdout and stderr are captured in <see cref="Output"/>.
/// </summary>
/// <remarks>
/// <para>Start with <see cref="StartAsync"/>, which returns once <c>/_licensing/healthz</c> answers 200.
/// <see cref="Kill"/> is a SIGKILL (a crash: no shutdown hooks run); <see cref="RestartAsync"/> starts the
/// same configuration again on the same port. Dispose to kill it; every process still running when the
/// test host exits is killed as well.</para>
/// <para>The gateway runs from its own build output for the configuration the tests were built with
/// (Debug or Release), found through the <c>GatewayAssemblyPath</c> assembly metadata the project file
/// writes; its working directory is that output directory unless <see cref="GatewaySettings.WorkingDirectory"/>
/// says otherwise (the content root, where the shipped <c>appsettings.json</c> is read, is that folder either way).</para>
/// </remarks>
public sealed class GatewayProcess : IAsyncDisposable
{
    private const int MaxOutputChars = 4_000_000;
    private static readonly TimeSpan DefaultStartTimeout = TimeSpan.FromSeconds(90);
    private static readonly ConcurrentDictionary<GatewayProcess, byte> Live = new();

    // Inherited variables that would change the gateway's configuration behind the test's back.
    private static readonly string[] ScrubbedPrefixes =
    [
        "ASPNETCORE_", "DOTNET_ENVIRONMENT", "DOTNET_URLS", "Licensing__", "ConnectionStrings__", "ReverseProxy__",
        "Authentication__", "Logging__", "Kestrel__", "ForwardedHeaders__", "OTEL_", "Demo__",
    ];

    static GatewayProcess()
    {
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            foreach (var gateway in Live.Keys) gateway.Kill();
        };
    }

    private readonly GatewaySettings _settings;
    private readonly ITestOutputHelper? _log;
    private readonly StringBuilder _output = new();
    private Process? _process;
    private int _starts;

    private GatewayProcess(GatewaySettings settings, string name, int port, ITestOutputHelper? log)
    {
        _settings = settings;
        Name = name;
        Port = port;
        _log = log;
    }

    /// <summary>A name for messages and the captured output (e.g. <c>replica-1</c>).</summary>
    public string Name { get; }

    public int Port { get; private set; }

    /// <summary><c>http://127.0.0.1:{port}/</c>.</summary>
    public Uri BaseAddress => new($"http://127.0.0.1:{Port}/");

    public int? ProcessId => _process?.Id;

    public bool IsRunning => _process is { HasExited: false };

    /// <summary>"running (pid N)", or how the process ended and its last output lines: for failure messages.</summary>
    public string Describe()
    {
        var process = _process;
        if (process is null) return $"{Name}: not started";
        if (!process.HasExited) return $"{Name}: running (pid {process.Id}, port {Port})";
        return $"{Name}: EXITED with code {process.ExitCode} (pid {process.Id}, port {Port}); last output:{Environment.NewLine}{Tail(Output, 25)}";
    }

    /// <summary>Everything the process wrote to stdout and stderr so far (all starts), one line per line.</summary>
    public string Output
    {
        get
        {
            lock (_output) return _output.ToString();
        }
    }

    /// <summary>The <c>Gateway.dll</c> the tests start.</summary>
    public static string AssemblyPath { get; } = FindGatewayAssembly();

    /// <summary>
    /// Starts a gateway on a free port and waits until it answers <c>/_licensing/healthz</c>. Retries on
    /// another port when the chosen one was taken in the meantime.
    /// </summary>
    public static async Task<GatewayProcess> StartAsync(GatewaySettings settings, string name = "gateway", ITestOutputHelper? log = null, TimeSpan? timeout = null)
    {
        for (var attempt = 1; ; attempt++)
        {
            var gateway = new GatewayProcess(settings, name, FreePort.Get(), log);
            try
            {
                await gateway.StartProcessAsync(timeout ?? DefaultStartTimeout);
                return gateway;
            }
            catch (GatewayStartException e) when (attempt < 5 && e.PortTaken)
            {
                await gateway.DisposeAsync();
            }
            catch
            {
                await gateway.DisposeAsync();
                throw;
            }
        }
    }

    /// <summary>Starts <paramref name="count"/> gateways with the same settings in parallel (named <c>replica-1</c>...).</summary>
    public static async Task<GatewayProcess[]> StartManyAsync(int count, GatewaySettings settings, ITestOutputHelper? log = null)
    {
        var starts = Enumerable.Range(1, count).Select(i => StartAsync(settings, $"replica-{i}", log)).ToArray();
        try
        {
            return await Task.WhenAll(starts);
        }
        catch
        {
            foreach (var start in starts.Where(s => s.IsCompletedSuccessfully)) await start.Result.DisposeAsync();
            throw;
        }
    }

    /// <summary>Starts the same configuration again, on the same port (after <see cref="Kill"/>).</summary>
    public async Task RestartAsync(TimeSpan? timeout = null)
    {
        if (IsRunning) throw new InvalidOperationException($"{Name} is still running.");
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await StartProcessAsync(timeout ?? DefaultStartTimeout);
                return;
            }
            catch (GatewayStartException e) when (attempt < 20 && e.PortTaken)
            {
                await Task.Delay(250); // the old listener may linger for a moment
            }
        }
    }

    /// <summary>Kills the process and its children at once (SIGKILL) and waits for it to exit.</summary>
    public void Kill()
    {
        var process = _process;
        if (process is null) return;
        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit(10_000);
            }
        }
        catch (InvalidOperationException)
        {
            // already gone
        }
        catch (SystemException)
        {
            // the process could not be signalled because it is exiting
        }

        Live.TryRemove(this, out _);
    }

    /// <summary>Waits until <see cref="Output"/> contains <paramref name="text"/>; false after <paramref name="timeout"/>.</summary>
    public async Task<bool> WaitForOutputAsync(string text, TimeSpan timeout)
    {
        var elapsed = Stopwatch.StartNew();
        while (!Output.Contains(text, StringComparison.Ordinal))
        {
            if (elapsed.Elapsed > timeout) return false;
            await Task.Delay(50);
        }
        return true;
    }

    private async Task StartProcessAsync(TimeSpan timeout)
    {
        var startInfo = new ProcessStartInfo(DotnetHost())
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            WorkingDirectory = _settings.WorkingDirectory ?? Path.GetDirectoryName(AssemblyPath)!,
        };
        startInfo.ArgumentList.Add(AssemblyPath);
        if (Environment.GetEnvironmentVariable("GATEWAY_TEST_TMP") is { Length: > 0 } marker)
        {
            // CI kills whatever is left under its marker directory (.ci/run): name it on the command line.
            // (An unused configuration key for the gateway.)
            startInfo.ArgumentList.Add($"--FaultTests:Marker={marker}");
        }

        foreach (var key in startInfo.Environment.Keys.ToArray())
        {
            if (ScrubbedPrefixes.Any(prefix => key.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))) startInfo.Environment.Remove(key);
        }
        startInfo.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        startInfo.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{Port}";
        startInfo.Environment["DOTNET_NOLOGO"] = "1";
        foreach (var (key, value) in _settings.Values) startInfo.Environment[GatewaySettings.EnvironmentName(key)] = value;

        var start = ++_starts;
        Append($"--- {Name}: start #{start} on port {Port} ---");
        var process = new Process { StartInfo = startInfo, EnableRaisingEvents = true };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) Append(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) Append(e.Data); };
        if (!process.Start()) throw new InvalidOperationException($"{Name}: dotnet did not start.");
        _process = process;
        Live.TryAdd(this, 0);
        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var elapsed = Stopwatch.StartNew();
        while (true)
        {
            if (process.HasExited)
            {
                await process.WaitForExitAsync(); // drains the output
                var output = Output;
                throw new GatewayStartException(
                    $"{Name} exited with code {process.ExitCode} during start-up (port {Port}).{Environment.NewLine}{Tail(output, 40)}",
                    portTaken: output.Contains("address already in use", StringComparison.OrdinalIgnoreCase));
            }

            try
            {
                using var response = await http.GetAsync(new Uri(BaseAddress, "_licensing/healthz"));
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    _log?.WriteLine($"{Name}: pid {process.Id} healthy on port {Port} after {elapsed.Elapsed.TotalSeconds:F1} s (start #{start}).");
                    return;
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                // not listening yet
            }

            if (elapsed.Elapsed > timeout)
            {
                Kill();
                throw new GatewayStartException($"{Name} did not answer /_licensing/healthz within {timeout}.{Environment.NewLine}{Tail(Output, 40)}", portTaken: false);
            }

            await Task.Delay(100);
        }
    }

    private void Append(string line)
    {
        lock (_output)
        {
            if (_output.Length > MaxOutputChars) _output.Remove(0, _output.Length / 2);
            _output.AppendLine(line);
        }
    }

    /// <summary>The last <paramref name="lines"/> lines of <paramref name="text"/>.</summary>
    public static string Tail(string text, int lines) =>
        string.Join(Environment.NewLine, text.Split('\n').Select(l => l.TrimEnd('\r')).Where(l => l.Length > 0).TakeLast(lines));

    public async ValueTask DisposeAsync()
    {
        Kill();
        if (_process is { } process)
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            try
            {
                await process.WaitForExitAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
            }
            process.Dispose();
            _process = null;
        }

        // Warnings and errors help to read a failure; a healthy run writes none.
        var problems = Output.Split('\n').Where(l => l.Contains("warn:", StringComparison.Ordinal) || l.Contains("fail:", StringComparison.Ordinal) || l.Contains("crit:", StringComparison.Ordinal)).ToArray();
        if (problems.Length > 0)
        {
            try
            {
                _log?.WriteLine($"{Name}: {problems.Length} warning/error log lines, the last ones:{Environment.NewLine}{string.Join(Environment.NewLine, problems.TakeLast(8).Select(l => "  " + Shorten(l.TrimEnd('\r'))))}");
            }
            catch (InvalidOperationException)
            {
                // the test is over
            }
        }
    }

    private static string Shorten(string line) => line.Length <= 300 ? line : line[..300] + " ...";

    private static string DotnetHost()
    {
        // dotnet test sets DOTNET_HOST_PATH for the processes it starts; fall back to our own host, then PATH.
        if (Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host)) return host;
        if (Environment.ProcessPath is { } self && Path.GetFileNameWithoutExtension(self) == "dotnet") return self;
        return "dotnet";
    }

    private static string FindGatewayAssembly()
    {
        var built = typeof(GatewayProcess).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .FirstOrDefault(a => a.Key == "GatewayAssemblyPath")?.Value;
        string?[] candidates = [built, Path.Combine(AppContext.BaseDirectory, "Gateway.dll")];
        foreach (var candidate in candidates)
        {
            if (candidate is { Length: > 0 } && File.Exists(candidate) && File.Exists(Path.ChangeExtension(candidate, ".runtimeconfig.json")))
            {
                return candidate;
            }
        }

        throw new InvalidOperationException($"The gateway's build output was not found (looked for {string.Join(", ", candidates.Where(c => c is not null))}). Build the solution first.");
    }
}

/// <summary>The gateway process exited during start-up or did not become healthy.</summary>
public sealed class GatewayStartException(string message, bool portTaken) : Exception(message)
{
    public bool PortTaken { get; } = portTaken;
}
