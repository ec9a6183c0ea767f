using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using StackExchange.Redis;

namespace Gateway.Tests.Management;

/// <summary>
/// Stand-in for the shared RedisServerFixture (branch infra) until it lands on main: a real
/// redis-server on a free loopback port, without persistence, killed on dispose.
/// </summary>
public sealed class RedisServerFixture : IAsyncLifetime
{
    private Process? _process;
    private ConnectionMultiplexer? _connection;

    public int Port { get; private set; }

    public string ConnectionString => $"127.0.0.1:{Port},abortConnect=false,allowAdmin=true";

    public ConnectionMultiplexer Connection => _connection ?? throw new InvalidOperationException("Not started.");

    public async Task InitializeAsync()
    {
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            Port = ((IPEndPoint)probe.LocalEndpoint).Port;
            probe.Stop();
        }
        var dir = Path.Combine(Path.GetTempPath(), "mgmt-redis-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dir);
        _process = Process.Start(new ProcessStartInfo("redis-server",
            ["--port", Port.ToString(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        })!;
        _process.OutputDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                _connection = await ConnectionMultiplexer.ConnectAsync(ConnectionString + ",connectTimeout=1000");
                await _connection.GetDatabase().PingAsync();
                return;
            }
            catch (Exception) when (deadline.Elapsed < TimeSpan.FromSeconds(15))
            {
                if (_connection is not null) await _connection.DisposeAsync();
                _connection = null;
                await Task.Delay(100);
            }
        }
    }

    public Task FlushAsync() => Connection.GetServer("127.0.0.1", Port).FlushAllDatabasesAsync();

    public async Task DisposeAsync()
    {
        if (_connection is not null) await _connection.DisposeAsync();
        if (_process is { HasExited: false })
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }
        _process?.Dispose();
    }
}
