using System.Diagnostics;
using StackExchange.Redis;

namespace Gateway.Licensing.Tests.Infrastructure;

/// <summary>
/// A Redis Cluster of 3 primaries (with <see cref="ReplicasPerPrimary"/> replicas each, none by default)
/// on free loopback ports, for tests that must prove keys and scripts route correctly under cluster
/// hashing, and for failover tests that kill a primary. Requires <c>redis-server</c> and
/// <c>redis-cli</c> on PATH (<c>apt-get install -y redis-server</c>).
/// </summary>
/// <remarks>Share one instance through <c>[Collection("redis-cluster")]</c> (see <see cref="RedisClusterCollection"/>).</remarks>
public sealed class RedisClusterFixture : IAsyncLifetime, IAsyncDisposable
{
    private const int PrimaryCount = 3;
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);

    private readonly List<RedisProcess> _nodes = [];
    private ConnectionMultiplexer? _connection;

    /// <summary>Replicas per primary, assigned by <c>redis-cli --cluster create</c>; 0 unless set.</summary>
    public int ReplicasPerPrimary { get; init; }

    private int NodeCount => PrimaryCount * (1 + ReplicasPerPrimary);

    /// <summary>The data ports of the nodes (each node also listens on its bus port, port + 10000).</summary>
    public IReadOnlyList<int> Ports => _nodes.Select(n => n.Port).ToArray();

    /// <summary><c>127.0.0.1:P1,127.0.0.1:P2,127.0.0.1:P3,abortConnect=false,allowAdmin=true</c>.</summary>
    public string ConnectionString =>
        _nodes.Count == 0
            ? throw NotInitialized()
            : string.Join(",", _nodes.Select(n => $"127.0.0.1:{n.Port}")) + ",abortConnect=false,allowAdmin=true";

    /// <summary>A shared multiplexer over all nodes (fail-fast backlog, 2 s timeouts). Do not dispose it.</summary>
    public ConnectionMultiplexer Connection => _connection ?? throw NotInitialized();

    public async Task InitializeAsync()
    {
        RedisProcess.FindExecutable("redis-server");
        var redisCli = RedisProcess.FindExecutable("redis-cli");

        try
        {
            await StartNodesAsync();
            await CreateClusterAsync(redisCli);
            await WaitForClusterStateOkAsync();
            await WaitForReplicasInSyncAsync();

            _connection = await ConnectionMultiplexer.ConnectAsync(CreateOptions());
            await WaitUntilAllPrimariesAreKnownAsync();
        }
        catch
        {
            await DisposeAsync();
            throw;
        }
    }

    /// <summary>Options over all nodes, tuned for tests like <see cref="RedisServerFixture.CreateOptions"/>.</summary>
    public ConfigurationOptions CreateOptions() => RedisServerFixture.TestOptions(ConnectionString);

    /// <summary>Deletes every key on every primary.</summary>
    public Task FlushAsync() =>
        Task.WhenAll(Connection.GetServers().Where(s => !s.IsReplica).Select(s => s.FlushAllDatabasesAsync()));

    private async Task StartNodesAsync()
    {
        while (_nodes.Count < NodeCount)
        {
            for (var attempt = 1; ; attempt++)
            {
                var port = FreePort.GetWithCompanion(10_000); // the cluster bus uses port + 10000
                var node = new RedisProcess(
                    port,
                    RedisProcess.CreateTempDirectory($"redis-cluster-{port}"),
                    "--cluster-enabled", "yes",
                    "--cluster-config-file", "nodes.conf",
                    "--cluster-node-timeout", "5000");
                try
                {
                    await node.StartAsync(StartTimeout);
                    _nodes.Add(node);
                    break;
                }
                catch (RedisProcessStartException) when (attempt < 5)
                {
                    node.Dispose();
                }
                catch
                {
                    node.Dispose();
                    throw;
                }
            }
        }
    }

    private async Task CreateClusterAsync(string redisCli)
    {
        var startInfo = new ProcessStartInfo(redisCli)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
        };
        startInfo.ArgumentList.Add("--cluster");
        startInfo.ArgumentList.Add("create");
        foreach (var node in _nodes)
        {
            startInfo.ArgumentList.Add($"127.0.0.1:{node.Port}");
        }

        startInfo.ArgumentList.Add("--cluster-replicas");
        startInfo.ArgumentList.Add(ReplicasPerPrimary.ToString(System.Globalization.CultureInfo.InvariantCulture));
        startInfo.ArgumentList.Add("--cluster-yes");

        using var process = Process.Start(startInfo) ?? throw new InvalidOperationException("redis-cli did not start.");
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(StartTimeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new InvalidOperationException($"redis-cli --cluster create did not finish within {StartTimeout}.{Environment.NewLine}{await stdout}{await stderr}");
        }

        var output = await stdout + await stderr;
        if (process.ExitCode != 0 || !output.Contains("[OK] All 16384 slots covered", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"redis-cli --cluster create failed (exit code {process.ExitCode}):{Environment.NewLine}{output}");
        }
    }

    private async Task WaitForClusterStateOkAsync()
    {
        var elapsed = Stopwatch.StartNew();
        foreach (var node in _nodes)
        {
            while (true)
            {
                var info = await RespClient.TryCommandAsync(node.Port, TimeSpan.FromSeconds(2), "CLUSTER", "INFO");
                if (info?.Contains("cluster_state:ok", StringComparison.Ordinal) == true)
                {
                    break;
                }

                if (elapsed.Elapsed > StartTimeout)
                {
                    throw new InvalidOperationException($"Redis Cluster node {node.Port} did not reach cluster_state:ok within {StartTimeout}:{Environment.NewLine}{info}");
                }

                await Task.Delay(100);
            }
        }
    }

    private async Task WaitUntilAllPrimariesAreKnownAsync()
    {
        var elapsed = Stopwatch.StartNew();
        while (Connection.GetServers().Count(s => s.IsConnected && s.ServerType == ServerType.Cluster && !s.IsReplica) < PrimaryCount)
        {
            if (elapsed.Elapsed > StartTimeout)
            {
                throw new InvalidOperationException($"The multiplexer did not see {PrimaryCount} cluster primaries within {StartTimeout}:{Environment.NewLine}{Connection.GetStatus()}");
            }

            await Task.Delay(100);
        }
    }

    private async Task WaitForReplicasInSyncAsync()
    {
        var elapsed = Stopwatch.StartNew();
        foreach (var node in _nodes)
        {
            while (true)
            {
                var info = await RespClient.TryCommandAsync(node.Port, TimeSpan.FromSeconds(2), "INFO", "replication");
                if (info?.Contains("role:master", StringComparison.Ordinal) == true
                    || info?.Contains("master_link_status:up", StringComparison.Ordinal) == true)
                {
                    break;
                }

                if (elapsed.Elapsed > StartTimeout)
                {
                    throw new InvalidOperationException($"Replica {node.Port} did not sync with its primary within {StartTimeout}:{Environment.NewLine}{info}");
                }

                await Task.Delay(100);
            }
        }
    }

    /// <summary>
    /// Sends one command to one node over a fresh connection (not through <see cref="Connection"/>) and
    /// returns the reply as text (see <c>RespClient</c>), or null when the node does not answer.
    /// </summary>
    public Task<string?> CommandAsync(int port, params string[] args) =>
        RespClient.TryCommandAsync(port, TimeSpan.FromSeconds(5), args);

    /// <summary>Kills one node at once (SIGKILL), as a crash would.</summary>
    public void Kill(int port) => _nodes.Single(n => n.Port == port).Kill();

    /// <summary>
    /// The node that serves <paramref name="key"/>'s slot and its replicas, as <c>CLUSTER NODES</c> on
    /// <paramref name="askPort"/> tells them.
    /// </summary>
    public async Task<(int Primary, IReadOnlyList<int> Replicas)> SlotOwnerAsync(string key, int askPort)
    {
        var slot = int.Parse((await CommandAsync(askPort, "CLUSTER", "KEYSLOT", key))!.TrimStart(':'), System.Globalization.CultureInfo.InvariantCulture);
        var lines = (await CommandAsync(askPort, "CLUSTER", "NODES"))!.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split(' ')).ToArray();
        static int PortOf(string[] fields) => int.Parse(fields[1].Split('@')[0].Split(':')[1], System.Globalization.CultureInfo.InvariantCulture);
        var primary = lines.Single(f => f[2].Contains("master", StringComparison.Ordinal) && f.Skip(8).Any(range =>
        {
            var bounds = range.Split('-');
            if (bounds[0].StartsWith('[')) return false;
            var low = int.Parse(bounds[0], System.Globalization.CultureInfo.InvariantCulture);
            var high = bounds.Length > 1 ? int.Parse(bounds[1], System.Globalization.CultureInfo.InvariantCulture) : low;
            return slot >= low && slot <= high;
        }));
        var replicas = lines.Where(f => f[3] == primary[0]).Select(PortOf).ToArray();
        return (PortOf(primary), replicas);
    }

    public async Task DisposeAsync()
    {
        if (_connection is not null)
        {
            await _connection.CloseAsync(allowCommandsToComplete: false);
            await _connection.DisposeAsync();
            _connection = null;
        }

        foreach (var node in _nodes)
        {
            node.Dispose();
        }

        _nodes.Clear();
    }

    ValueTask IAsyncDisposable.DisposeAsync() => new(DisposeAsync());

    private static InvalidOperationException NotInitialized() =>
        new($"{nameof(RedisClusterFixture)} is not started: use it as a fixture or call {nameof(InitializeAsync)} first.");
}
