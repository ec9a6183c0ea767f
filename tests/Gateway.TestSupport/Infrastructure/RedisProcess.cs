using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Sockets;
using System.Text;

namespace Gateway.Licensing.Tests.Infrastructure;

/// <summary>
/// One <c>redis-server</c> child process on a loopback port, with its own working directory and log
/// file. Shared by <see cref="RedisServerFixture"/> and <see cref="RedisClusterFixture"/>.
/// </summary>
/// <remarks>
/// The working directory lives under <c>$GATEWAY_TEST_TMP</c> when set (CI passes a marker directory
/// there and kills any process whose command line mentions it), else under the system temp path.
/// The process keeps its original command line (<c>--set-proc-title no</c>) so that marker stays
/// visible in <c>/proc/PID/cmdline</c>.
/// </remarks>
internal sealed class RedisProcess : IDisposable
{
    private static readonly ConcurrentDictionary<RedisProcess, byte> Live = new();

    static RedisProcess()
    {
        // Last line of defence: never leave a redis-server behind when the test host exits normally.
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            foreach (var process in Live.Keys)
            {
                process.Kill();
            }
        };
    }

    private readonly string[] _extraArgs;
    private Process? _process;

    public RedisProcess(int port, string directory, params string[] extraArgs)
    {
        Port = port;
        Directory = directory;
        _extraArgs = extraArgs;
    }

    public int Port { get; }

    public string Directory { get; }

    public string LogFile => Path.Combine(Directory, "redis.log");

    /// <summary>
    /// A redis.conf to start from, passed as the first argument. Unset: the server runs without
    /// persistence (<c>--save "" --appendonly no</c>). Set: the file's persistence settings apply; port,
    /// bind address, directory and logging are still this process's (command-line options win).
    /// </summary>
    public string? ConfigFile { get; init; }

    public bool IsRunning => _process is { HasExited: false };

    /// <summary>Root for temporary directories: <c>$GATEWAY_TEST_TMP</c>, else the system temp path.</summary>
    public static string TempRoot =>
        Environment.GetEnvironmentVariable("GATEWAY_TEST_TMP") is { Length: > 0 } root ? root : Path.GetTempPath();

    /// <summary>Creates a fresh, uniquely named directory under <see cref="TempRoot"/>.</summary>
    public static string CreateTempDirectory(string prefix)
    {
        var path = Path.Combine(TempRoot, $"{prefix}-{Guid.NewGuid():N}"[..(prefix.Length + 13)]);
        System.IO.Directory.CreateDirectory(path);
        return path;
    }

    /// <summary>
    /// The full path of <c>redis-server</c> or <c>redis-cli</c>: the one on PATH, else a copy the tests
    /// fetch once per machine (<see cref="RedisBinaries"/>); or a clear exception naming what to install.
    /// </summary>
    public static string FindExecutable(string name) => name switch
    {
        "redis-server" => RedisBinaries.Current.Server,
        "redis-cli" => RedisBinaries.Current.Cli,
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, "Only redis-server and redis-cli are provided."),
    };

    /// <summary>Starts the process and waits until it answers PING.</summary>
    /// <exception cref="RedisProcessStartException">The process exited or did not answer in time.</exception>
    public async Task StartAsync(TimeSpan timeout)
    {
        if (IsRunning)
        {
            return;
        }

        System.IO.Directory.CreateDirectory(Directory);
        var startInfo = new ProcessStartInfo(FindExecutable("redis-server"))
        {
            UseShellExecute = false,
            WorkingDirectory = Directory,
        };
        string[] persistence = ConfigFile is null ? ["--save", "", "--appendonly", "no"] : [];
        foreach (var arg in (ConfigFile is null ? [] : new[] { ConfigFile })
                 .Concat(["--port", Port.ToString(), "--bind", "127.0.0.1"])
                 .Concat(persistence)
                 .Concat([
                     "--dir", Directory, "--logfile", LogFile, "--daemonize", "no", "--set-proc-title", "no",
                     "--protected-mode", "no",
                 ])
                 .Concat(_extraArgs))
        {
            startInfo.ArgumentList.Add(arg);
        }

        _process = Process.Start(startInfo) ?? throw new InvalidOperationException("redis-server did not start.");
        Live.TryAdd(this, 0);

        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < timeout)
        {
            if (_process.HasExited)
            {
                throw new RedisProcessStartException($"redis-server on port {Port} exited with code {_process.ExitCode}.{LogTail()}");
            }

            if (await RespClient.TryCommandAsync(Port, TimeSpan.FromSeconds(1), "PING") == "+PONG")
            {
                return;
            }

            await Task.Delay(50);
        }

        Kill();
        throw new RedisProcessStartException($"redis-server on port {Port} did not answer PING within {timeout}.{LogTail()}");
    }

    /// <summary>Kills the process at once (SIGKILL) and waits for it to exit.</summary>
    public void Kill()
    {
        var process = _process;
        if (process is null)
        {
            return;
        }

        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit(5_000);
            }
        }
        catch (InvalidOperationException)
        {
            // already gone
        }

        process.Dispose();
        _process = null;
        Live.TryRemove(this, out _);
    }

    public string LogTail(int lines = 20)
    {
        try
        {
            var tail = File.ReadLines(LogFile).TakeLast(lines).ToArray();
            return tail.Length == 0 ? "" : $"{Environment.NewLine}Last lines of {LogFile}:{Environment.NewLine}{string.Join(Environment.NewLine, tail)}";
        }
        catch (IOException)
        {
            return "";
        }
    }

    public void Dispose()
    {
        Kill();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // best effort
        }
    }
}

/// <summary>redis-server exited during start-up (typically: the port was taken) or did not answer.</summary>
internal sealed class RedisProcessStartException(string message) : Exception(message);

/// <summary>A minimal RESP client for readiness probes, independent of StackExchange.Redis.</summary>
internal static class RespClient
{
    /// <summary>
    /// Sends one command and returns the reply as text: simple strings, errors and integers with their
    /// type prefix (<c>+PONG</c>, <c>-ERR ...</c>, <c>:1</c>), bulk strings as their content. Null when
    /// the server cannot be reached or does not answer within <paramref name="timeout"/>.
    /// </summary>
    public static async Task<string?> TryCommandAsync(int port, TimeSpan timeout, params string[] args)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync("127.0.0.1", port, cts.Token);
            var stream = client.GetStream();

            var request = new StringBuilder().Append('*').Append(args.Length).Append("\r\n");
            foreach (var arg in args)
            {
                request.Append('$').Append(Encoding.UTF8.GetByteCount(arg)).Append("\r\n").Append(arg).Append("\r\n");
            }

            await stream.WriteAsync(Encoding.UTF8.GetBytes(request.ToString()), cts.Token);

            var received = new MemoryStream();
            var buffer = new byte[4096];
            while (true)
            {
                var read = await stream.ReadAsync(buffer, cts.Token);
                if (read == 0)
                {
                    return null;
                }

                received.Write(buffer, 0, read);
                if (TryParse(received.ToArray(), out var reply))
                {
                    return reply;
                }
            }
        }
        catch (Exception e) when (e is SocketException or IOException or OperationCanceledException)
        {
            return null;
        }
    }

    private static bool TryParse(byte[] data, out string? reply)
    {
        reply = null;
        var lineEnd = IndexOfCrLf(data, 0);
        if (lineEnd < 0)
        {
            return false;
        }

        var header = Encoding.UTF8.GetString(data, 0, lineEnd);
        if (header[0] != '$')
        {
            reply = header;
            return true;
        }

        var length = int.Parse(header.AsSpan(1));
        if (length < 0)
        {
            return true; // nil
        }

        if (data.Length < lineEnd + 2 + length + 2)
        {
            return false;
        }

        reply = Encoding.UTF8.GetString(data, lineEnd + 2, length);
        return true;
    }

    private static int IndexOfCrLf(byte[] data, int start)
    {
        for (var i = start; i + 1 < data.Length; i++)
        {
            if (data[i] == '\r' && data[i + 1] == '\n')
            {
                return i;
            }
        }

        return -1;
    }
}
