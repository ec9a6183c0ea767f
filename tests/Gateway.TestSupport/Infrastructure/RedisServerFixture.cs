using System.Diagnostics;
using StackExchange.Redis;

namespace Gateway.Licensing.Tests.Infrastructure;

/// <summary>
/// A real <c>redis-server</c> on a free loopback port, started for the test run and killed afterwards.
/// Runs <c>redis-server</c> from PATH, else a copy the tests fetch once per machine (see <see cref="RedisBinaries"/>).
/// </summary>
/// <remarks>
/// <para>Share one instance through <c>[Collection("redis")]</c> (see <see cref="RedisCollection"/>);
/// call <see cref="FlushAsync"/> at the start of a test that needs an empty store. A test that stops
/// the server (outage tests) should create its own instance instead of stopping the shared one:
/// <code>await using var redis = new RedisServerFixture(); await redis.InitializeAsync();</code></para>
/// <para>The server runs without persistence (<c>--save "" --appendonly no</c>) in a directory under
/// <c>$GATEWAY_TEST_TMP</c> (or the system temp path). A test that needs persistence across
/// <see cref="StopAsync"/>/<see cref="StartAsync"/> sets <see cref="ConfigFile"/> (e.g. the repository's
/// <c>config/redis.conf</c>, with AOF) and, if it likes, <see cref="Arguments"/>:
/// <code>new RedisServerFixture { ConfigFile = path, Arguments = ["--appendfsync", "always"] }</code></para>
/// </remarks>
public sealed class RedisServerFixture : IAsyncLifetime, IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(15);

    private RedisProcess? _process;
    private ConnectionMultiplexer? _connection;

    /// <summary>
    /// A redis.conf to start from (set before <see cref="InitializeAsync"/>). It is copied into the
    /// server's directory without its <c>dir</c> line (the fixture's directory is used; a <c>dir</c> that
    /// does not exist or cannot be entered would stop redis-server), and its persistence settings apply
    /// instead of the fixture's "no persistence". Port, bind address and logging stay the fixture's.
    /// </summary>
    public string? ConfigFile { get; init; }

    /// <summary>Extra redis-server arguments, applied after the config file and the fixture's own (so they win).</summary>
    public IReadOnlyList<string> Arguments { get; init; } = [];

    /// <summary>The loopback port the server listens on; stays the same across <see cref="StopAsync"/>/<see cref="StartAsync"/>.</summary>
    public int Port => _process?.Port ?? throw NotInitialized();

    /// <summary><c>127.0.0.1:P,abortConnect=false,allowAdmin=true</c> (StackExchange.Redis syntax).</summary>
    public string ConnectionString => $"127.0.0.1:{Port},abortConnect=false,allowAdmin=true";

    /// <summary>
    /// A shared multiplexer for test setup and assertions. Unlike the bare <see cref="ConnectionString"/>,
    /// it fails fast while the server is down (no backlog, 2 s timeouts) and reconnects quickly after
    /// <see cref="StartAsync"/>. Do not dispose it.
    /// </summary>
    public ConnectionMultiplexer Connection => _connection ?? throw NotInitialized();

    /// <summary>Whether the server process is running (false between <see cref="StopAsync"/> and <see cref="StartAsync"/>).</summary>
    public bool IsRunning => _process?.IsRunning ?? false;

    /// <summary>The server's working directory (under <c>$GATEWAY_TEST_TMP</c> when set).</summary>
    public string Directory => _process?.Directory ?? throw NotInitialized();

    public async Task InitializeAsync()
    {
        RedisProcess.FindExecutable("redis-server"); // fail early with a clear message

        for (var attempt = 1; ; attempt++)
        {
            var port = FreePort.Get();
            var directory = RedisProcess.CreateTempDirectory($"redis-{port}");
            var process = new RedisProcess(port, directory, [.. Arguments]) { ConfigFile = CopyConfigFile(directory) };
            try
            {
                await process.StartAsync(StartTimeout);
                _process = process;
                break;
            }
            catch (RedisProcessStartException) when (attempt < 5)
            {
                process.Dispose(); // port taken between probe and bind: try another one
            }
            catch
            {
                process.Dispose();
                throw;
            }
        }

        _connection = await ConnectionMultiplexer.ConnectAsync(CreateOptions());
        await WaitUntilConnectionAnswersAsync();
    }

    private string? CopyConfigFile(string directory)
    {
        if (ConfigFile is null)
        {
            return null;
        }

        var copy = Path.Combine(directory, "redis.conf");
        File.WriteAllLines(copy, File.ReadAllLines(ConfigFile).Where(line => !line.TrimStart().StartsWith("dir ", StringComparison.Ordinal)));
        return copy;
    }

    /// <summary>
    /// Options for the server, tuned for tests: <c>abortConnect=false</c>, <c>allowAdmin=true</c>,
    /// fail-fast backlog, 2 s timeouts, reconnect every 200 ms. Use it to build a private multiplexer.
    /// </summary>
    public ConfigurationOptions CreateOptions() => TestOptions(ConnectionString);

    /// <summary><paramref name="connectionString"/> with the tests' fail-fast settings (see <see cref="CreateOptions"/>).</summary>
    internal static ConfigurationOptions TestOptions(string connectionString)
    {
        var options = ConfigurationOptions.Parse(connectionString);
        options.BacklogPolicy = BacklogPolicy.FailFast;
        options.ConnectTimeout = 2_000;
        options.AsyncTimeout = 2_000;
        options.SyncTimeout = 2_000;
        options.ReconnectRetryPolicy = new LinearRetry(200);
        return options;
    }

    /// <summary>Deletes every key (FLUSHALL).</summary>
    public Task FlushAsync() => Connection.GetServer("127.0.0.1", Port).FlushAllDatabasesAsync();

    /// <summary>Kills the server at once (SIGKILL), as in a crash. All data is lost unless <see cref="ConfigFile"/> turns persistence on.</summary>
    public Task StopAsync()
    {
        _process?.Kill();
        return Task.CompletedTask;
    }

    /// <summary>
    /// Starts the server again on the same port (empty, unless <see cref="ConfigFile"/> turns persistence on), and waits until <see cref="Connection"/> has
    /// reconnected. No-op while running.
    /// </summary>
    public async Task StartAsync()
    {
        var process = _process ?? throw NotInitialized();
        if (process.IsRunning)
        {
            return;
        }

        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await process.StartAsync(StartTimeout);
                break;
            }
            catch (RedisProcessStartException) when (attempt < 20)
            {
                await Task.Delay(250); // the old socket may linger for a moment
            }
        }

        await WaitUntilConnectionAnswersAsync();
    }

    private async Task WaitUntilConnectionAnswersAsync()
    {
        var elapsed = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                await Connection.GetDatabase().PingAsync();
                return;
            }
            catch (Exception e) when (e is RedisException or TimeoutException && elapsed.Elapsed < StartTimeout)
            {
                await Task.Delay(100);
            }
        }
    }

    public async Task DisposeAsync()
    {
        if (_connection is not null)
        {
            await _connection.CloseAsync(allowCommandsToComplete: false);
            await _connection.DisposeAsync();
            _connection = null;
        }

        _process?.Dispose();
        _process = null;
    }

    ValueTask IAsyncDisposable.DisposeAsync() => new(DisposeAsync());

    private static InvalidOperationException NotInitialized() =>
        new($"{nameof(RedisServerFixture)} is not started: use it as a fixture or call {nameof(InitializeAsync)} first.");
}
