using System.Net;
using System.Net.Sockets;
using Garnet;
using Garnet.server;
using Garnet.server.Auth.Settings;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Tsavorite.core;

namespace Gateway.Licensing.Embedded;

/// <summary>
/// Hosts Microsoft Garnet in-process on 127.0.0.1 so that a single-replica gateway (or a
/// developer machine) gets a Redis-compatible store without running Redis. The licensing engine
/// talks to it over RESP like to any Redis, so the same Lua scripts and client code are used.
/// </summary>
/// <remarks>
/// The settings are not Garnet's defaults, each on purpose:
/// <list type="bullet">
/// <item>Lua scripts run as transactions (<c>LuaTransactionMode</c>): without it, scripts from
/// different connections interleave and a "check then admit" script can over-admit. Garnet only
/// locks the keys passed in <c>KEYS</c>, so every key a script touches must be there.</item>
/// <item>The append-only file is committed every <see cref="AofCommitIntervalMs"/> milliseconds and
/// replayed on start, so admitted sessions survive a restart, and a crash but for those of the
/// last interval. Whoever needs a write on disk before answering sends <c>COMMITAOF</c>.</item>
/// <item>The device is <see cref="DeviceType.RandomAccess"/>: the default native device needs
/// libaio, and without it the first AOF write kills the process.</item>
/// <item>Clients must authenticate with a password made at each start and known only to this
/// process: the port is on loopback, but any local process could otherwise change plans behind
/// the management API, with no audit entry.</item>
/// <item>Memory sizes are shrunk: Garnet's defaults reserve gigabytes for a store that holds a
/// few thousand sessions here.</item>
/// </list>
/// Garnet runs scripts on Lua 5.4, not Redis's 5.1: floats print as "5.0" (also when passed to
/// <c>redis.call</c>), and cjson and some replies differ. The probe table in
/// <c>EmbeddedRedisServerTests</c> lists each difference found, checked against both servers.
/// </remarks>
public sealed class EmbeddedRedisServer : IAsyncDisposable, IDisposable
{
    /// <summary>How often, in milliseconds, the append-only file is committed to disk.</summary>
    public const int AofCommitIntervalMs = 100;

    /// <summary>How many free ports to try when another process grabs the one we picked.</summary>
    private const int PortAttempts = 5;

    private readonly GarnetServer _server;
    private readonly ILogger _logger;
    private int _disposed;

    private readonly string _password;

    private EmbeddedRedisServer(GarnetServer server, int port, string dataPath, string password, ILogger logger)
    {
        _server = server;
        _logger = logger;
        _password = password;
        Port = port;
        DataPath = dataPath;
    }

    /// <summary>The loopback port Garnet listens on.</summary>
    public int Port { get; }

    /// <summary>The directory holding the append-only file and checkpoints.</summary>
    public string DataPath { get; }

    /// <summary>
    /// A StackExchange.Redis configuration string for this server, e.g.
    /// <c>127.0.0.1:6390,password=…</c>. It holds this start's password: never log it.
    /// </summary>
    public string ConnectionString => $"127.0.0.1:{Port},password={_password}";

    /// <summary>
    /// Starts Garnet on 127.0.0.1, recovering whatever an earlier instance left in
    /// <paramref name="dataPath"/>.
    /// </summary>
    /// <param name="dataPath">Directory for the AOF and checkpoints; created if missing.</param>
    /// <param name="port">Port to listen on, or 0 to pick a free loopback port.</param>
    /// <param name="logger">Receives Garnet's own log; null keeps it silent.</param>
    public static EmbeddedRedisServer Start(string dataPath, int port = 0, ILogger? logger = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(dataPath);
        ArgumentOutOfRangeException.ThrowIfNegative(port);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(port, IPEndPoint.MaxPort);

        logger ??= NullLogger.Instance;
        var fullPath = Path.GetFullPath(dataPath);
        Directory.CreateDirectory(fullPath);

        // A fixed port is the operator's choice: fail loudly if it is taken. A picked port can
        // be taken between probing and binding, so then pick another.
        var attempts = port == 0 ? PortAttempts : 1;
        var password = Convert.ToHexString(RandomNumberGenerator.GetBytes(32));
        for (var attempt = 1; ; attempt++)
        {
            var candidate = port == 0 ? PickFreeLoopbackPort() : port;
            GarnetServer? server = null;
            try
            {
                server = new GarnetServer(CreateOptions(fullPath, candidate, password, logger), new SingleLoggerFactory(logger));
                server.Start();
                logger.LogInformation("Embedded Garnet listening on 127.0.0.1:{Port}, data in {DataPath}", candidate, fullPath);
                return new EmbeddedRedisServer(server, candidate, fullPath, password, logger);
            }
            catch (Exception ex) when (attempt < attempts && IsAddressInUse(ex))
            {
                logger.LogWarning("Port {Port} was taken before Garnet bound it; trying another", candidate);
                server?.Dispose(deleteDir: false);
            }
            catch
            {
                server?.Dispose(deleteDir: false);
                throw;
            }
        }
    }

    private static GarnetServerOptions CreateOptions(string dataPath, int port, string password, ILogger logger) => new(logger)
    {
        EndPoints = [new IPEndPoint(IPAddress.Loopback, port)],
        AuthSettings = new PasswordAuthenticationSettings(password),
        QuietMode = true, // no banner on the host's console

        // EnableLua alone throws a NullReferenceException at startup: LuaOptions is required.
        EnableLua = true,
        LuaOptions = new LuaOptions(
            LuaMemoryManagementMode.Native,
            memoryLimit: "",
            timeout: Timeout.InfiniteTimeSpan, // like Redis: a script is never cut off half-way
            LuaLoggingMode.Enable,
            allowedFunctions: [], // empty = all of Garnet's Lua surface
            logger),
        LuaTransactionMode = true,

        EnableAOF = true,
        // Group commit: a commit per operation made every admission a disk write of its own (17 % of an
        // admission's CPU, measured). Admissions never waited for the commit anyway; administrative
        // changes still wait for theirs (COMMITAOF), so only the last AofCommitIntervalMs of admissions
        // can be missing after a crash, and a client's next request opens such a session again. 5 and 20 ms
        // saved no more CPU per admission than 100 ms, and woke an idle gateway more often.
        CommitFrequencyMs = AofCommitIntervalMs,
        Recover = true,
        EnableStorageTier = true,
        LogDir = Path.Combine(dataPath, "log"),
        CheckpointDir = Path.Combine(dataPath, "checkpoint"),
        DeviceType = DeviceType.RandomAccess,

        // The AOF is truncated by whole segments after a checkpoint (SAVE/BGSAVE): small segments
        // let a checkpoint give the disk back instead of keeping a 1 GB file.
        AofPageSize = "4m",
        AofSegmentSize = "16m",
        // The log's in-memory buffer is pinned and, once filled, kept: Garnet's default (64 MB) was a
        // third of the gateway's working set at 100k sessions. The log is committed every
        // AofCommitIntervalMs, so two pages hold everything not yet on disk.
        AofMemorySize = "8m",

        // The budget of the main log, inline records and object heap together, allocated as it
        // grows. Past it Garnet spills objects to disk: admissions slowed 2-3x at ~100k sessions,
        // and one benchmark run died in that path ("OnPagesMarkedReadOnlyWorker failed ...
        // Collection was modified") at 97k sessions. 512 MB keeps ~150k sessions in memory, the default
        // of the gateway's ceiling on live sessions (Licensing:Embedded:MaxSessions); runs to 200k completed without a crash.
        LogMemorySize = "512m",
        // The hash index holds keys, not sessions: 14 per tenant. 1 MB (16k buckets of 7 slots) is
        // plenty for thousands of tenants (overflow buckets take any more); 16 MB cost 20 MB of pinned memory.
        IndexMemorySize = "1m",
        PageSize = "1m",
    };

    private static int PickFreeLoopbackPort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        try
        {
            return ((IPEndPoint)listener.LocalEndpoint).Port;
        }
        finally
        {
            listener.Stop();
        }
    }

    private static bool IsAddressInUse(Exception ex)
    {
        for (var e = ex; e is not null; e = e.InnerException)
        {
            if (e is SocketException { SocketErrorCode: SocketError.AddressAlreadyInUse })
                return true;
        }
        return false;
    }

    /// <summary>
    /// Commits the append-only file and stops the server. The data directory is kept: it is
    /// what the next <see cref="Start"/> recovers from.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        try
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await _server.Store.CommitAOFAsync(cts.Token).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            // The group commit has written all but the last interval; this is a last flush only.
            _logger.LogWarning(ex, "Final AOF commit of the embedded Garnet failed");
        }
        // GarnetServer.Dispose() deletes the log and checkpoint directories; keep them.
        _server.Dispose(deleteDir: false);
    }

    /// <inheritdoc cref="DisposeAsync"/>
    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    /// <summary>Garnet wants a factory; hand every category the one logger we were given.</summary>
    private sealed class SingleLoggerFactory(ILogger logger) : ILoggerFactory
    {
        public ILogger CreateLogger(string categoryName) => logger;
        public void AddProvider(ILoggerProvider provider) { }
        public void Dispose() { }
    }
}
