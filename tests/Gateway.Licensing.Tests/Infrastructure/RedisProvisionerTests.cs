using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Gateway.Licensing.Tests.Infrastructure;

/// <summary>
/// How the fixtures get Redis on a machine without it: fetched from the distribution's packages
/// (real apt-get and dpkg-deb, into an empty cache folder, with Redis on PATH ignored), once for
/// parallel callers, reused without apt afterwards, and a clear error rather than a hang without apt
/// or without its mirrors.
/// </summary>
public sealed class RedisProvisionerTests : IDisposable
{
    private readonly string _cacheRoot = RedisProcess.CreateTempDirectory("redis-cache");

    public void Dispose()
    {
        try
        {
            Directory.Delete(_cacheRoot, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // best effort
        }
    }

    [Fact]
    public async Task Without_redis_on_PATH_parallel_callers_fetch_a_working_redis_once_and_later_callers_need_no_apt()
    {
        var path = Environment.GetEnvironmentVariable("PATH") ?? "";
        var callers = Enumerable.Range(0, 3)
            .Select(_ => Task.Run(() => new RedisProvisioner(_cacheRoot, path) { LookOnPath = false }.Resolve()))
            .ToArray();
        var results = await Task.WhenAll(callers).WaitAsync(TimeSpan.FromMinutes(10));

        Assert.Single(results, r => r.Source == RedisBinariesSource.Fetched);
        Assert.Equal(2, results.Count(r => r.Source == RedisBinariesSource.Cache));
        Assert.Single(results.Select(r => r.Server).Distinct());
        var binaries = results[0];
        Assert.StartsWith(_cacheRoot, binaries.Server, StringComparison.Ordinal);
        Assert.StartsWith(_cacheRoot, binaries.Cli, StringComparison.Ordinal);

        // The fetched server runs, answers the fetched client, and runs a script that reads TIME and then writes.
        var port = FreePort.Get();
        var directory = RedisProcess.CreateTempDirectory($"redis-fetched-{port}");
        var start = new ProcessStartInfo(binaries.Server) { UseShellExecute = false };
        foreach (var arg in new[] { "--port", port.ToString(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", directory, "--logfile", Path.Combine(directory, "redis.log"), "--set-proc-title", "no" })
        {
            start.ArgumentList.Add(arg);
        }

        using var server = Process.Start(start)!;
        try
        {
            Assert.Equal("+PONG", await WaitForPongAsync(port));
            Assert.Equal(":1", await RespClient.TryCommandAsync(port, TimeSpan.FromSeconds(5),
                "EVAL", "local t = redis.call('TIME') redis.call('SET', KEYS[1], t[1]) return redis.call('EXISTS', KEYS[1])", "1", "lic:{t}:k"));

            var cli = DebianPackageCache.Run(binaries.Cli, ["-p", port.ToString(), "PING"], directory, null, TimeSpan.FromSeconds(30), new StringBuilder());
            Assert.Equal(0, cli.ExitCode);
            Assert.Equal("PONG", cli.Output.Trim());
        }
        finally
        {
            server.Kill(entireProcessTree: true);
            server.WaitForExit();
            Directory.Delete(directory, recursive: true);
        }

        // Once fetched, an empty PATH (no apt-get, no dpkg-deb, no ldd) still finds it.
        var later = new RedisProvisioner(_cacheRoot, searchPath: "") { LookOnPath = false }.Resolve();
        Assert.Equal(RedisBinariesSource.Cache, later.Source);
        Assert.Equal(binaries.Server, later.Server);
        Assert.Equal(binaries.Cli, later.Cli);
    }

    [Fact]
    public void Without_redis_and_without_apt_it_fails_at_once_naming_what_to_install()
    {
        var provisioner = new RedisProvisioner(_cacheRoot, searchPath: "") { LookOnPath = false };

        var error = Assert.Throws<RedisProvisioningException>(provisioner.Resolve);

        Assert.Contains("apt-get is not on PATH", error.Message, StringComparison.Ordinal);
        Assert.Contains("apt-get install -y redis-server", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Without_access_to_apt_mirrors_it_fails_with_a_clear_message_instead_of_hanging()
    {
        // A "mirror" that accepts connections and never answers, as a firewall that drops packets
        // looks to apt; and no package lists, as in a container image.
        using var silent = new TcpListener(IPAddress.Loopback, 0);
        silent.Start();
        var held = new List<TcpClient>();
        using var stop = new CancellationTokenSource();
        var accepting = Task.Run(async () =>
        {
            try
            {
                while (true)
                {
                    var client = await silent.AcceptTcpClientAsync(stop.Token);
                    lock (held)
                    {
                        held.Add(client);
                    }
                }
            }
            catch (OperationCanceledException)
            {
            }
        });

        var apt = Path.Combine(_cacheRoot, "apt-elsewhere");
        Directory.CreateDirectory(Path.Combine(apt, "sources.list.d"));
        Directory.CreateDirectory(Path.Combine(apt, "lists", "partial"));
        Directory.CreateDirectory(Path.Combine(apt, "cache", "archives", "partial"));
        var port = ((IPEndPoint)silent.LocalEndpoint).Port;
        await File.WriteAllTextAsync(Path.Combine(apt, "sources.list"), $"deb [trusted=yes] http://127.0.0.1:{port}/debian bookworm main\n");
        var provisioner = new RedisProvisioner(Path.Combine(_cacheRoot, "cache"), Environment.GetEnvironmentVariable("PATH") ?? "")
        {
            LookOnPath = false,
            AptNetworkTimeoutSeconds = 2,
            AptOptions =
            [
                "-o", $"Dir::Etc::SourceList={Path.Combine(apt, "sources.list")}",
                "-o", $"Dir::Etc::SourceParts={Path.Combine(apt, "sources.list.d")}",
                "-o", $"Dir::State::Lists={Path.Combine(apt, "lists")}",
                "-o", $"Dir::Cache={Path.Combine(apt, "cache")}",
            ],
        };

        try
        {
            // Generous: apt gives up after 2 s per request; the bound only tells "fails" from "hangs".
            var error = await Assert.ThrowsAsync<RedisProvisioningException>(
                () => Task.Run(provisioner.Resolve).WaitAsync(TimeSpan.FromMinutes(2)));

            Assert.Contains("apt-get download redis-server redis-tools failed", error.Message, StringComparison.Ordinal);
            Assert.Contains($"127.0.0.1:{port}", error.Message, StringComparison.Ordinal); // the update's own words: which mirror failed
            Assert.Contains("apt-get install -y redis-server", error.Message, StringComparison.Ordinal);
            Assert.True(File.Exists(Path.Combine(provisioner.CacheDirectory, "fetch.log")));
            lock (held)
            {
                Assert.NotEmpty(held); // apt did try the silent mirror
            }
        }
        finally
        {
            await stop.CancelAsync();
            await accepting;
            lock (held)
            {
                held.ForEach(c => c.Dispose());
            }
        }
    }

    [Theory]
    [InlineData("adduser, libatomic1 (>= 4.8), libc6 (>= 2.34), libjemalloc2 (>= 3.5.0)", "adduser,libatomic1,libc6,libjemalloc2")]
    [InlineData("libsystemd0 | libelogind0, libssl3:any (>= 3.0.0)", "libsystemd0,libssl3")]
    [InlineData("", "")]
    public void Depends_fields_give_the_first_of_each_alternative_without_versions(string depends, string expected)
    {
        Assert.Equal(expected, string.Join(',', DebianPackageCache.ParseDependencies(depends)));
    }

    private static async Task<string?> WaitForPongAsync(int port)
    {
        var waited = Stopwatch.StartNew();
        while (true)
        {
            var reply = await RespClient.TryCommandAsync(port, TimeSpan.FromSeconds(1), "PING");
            if (reply == "+PONG" || waited.Elapsed > TimeSpan.FromSeconds(30))
            {
                return reply;
            }

            await Task.Delay(50);
        }
    }
}
