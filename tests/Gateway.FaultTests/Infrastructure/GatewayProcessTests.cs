using System.Net;
using System.Net.Sockets;
using Gateway.FaultTests.Support;
using Gateway.Licensing.Tests.Infrastructure;
using Gateway.Tests.Infrastructure;

namespace Gateway.FaultTests.Infrastructure;

public sealed class GatewayProcessTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Runs_the_built_gateway_in_Production_captures_its_log_and_dies_on_SIGKILL()
    {
        await using var redis = new RedisServerFixture();
        await redis.InitializeAsync();
        await using var backend = new LoopbackBackend();
        await backend.InitializeAsync();
        var settings = new GatewaySettings(redis.ConnectionString, backend.BaseAddress).WithTenant("proc", "ConcurrentSessions", 1);
        await using var gateway = await GatewayProcess.StartAsync(settings, log: output);
        using var seats = new Seats();

        await new Operator(seats.Http).WaitForTenantAsync(gateway, "proc", TimeSpan.FromSeconds(30));
        Assert.True((await seats.SendAsync(gateway, 0, "proc", "alice", "d1")).Forwarded);
        Assert.Equal("/api/work", backend.Received.Last().Path);
        Assert.Equal("seats-exhausted", (await seats.SendAsync(gateway, 0, "proc", "bob", "d1")).Code);

        Assert.True(await gateway.WaitForOutputAsync("Hosting environment: Production", TimeSpan.FromSeconds(10)), gateway.Output);
        Assert.Contains($"Connecting to the licensing store at 127.0.0.1:{redis.Port}", gateway.Output);
        Assert.Contains(gateway.BaseAddress.ToString().TrimEnd('/'), gateway.Output); // "Now listening on: ..."

        var pid = gateway.ProcessId!.Value;
        gateway.Kill();
        Assert.False(gateway.IsRunning);
        Assert.Throws<ArgumentException>(() => System.Diagnostics.Process.GetProcessById(pid));
        using var client = new TcpClient();
        await Assert.ThrowsAnyAsync<SocketException>(() => client.ConnectAsync(IPAddress.Loopback, gateway.Port));

        await gateway.RestartAsync();
        Assert.NotEqual(pid, gateway.ProcessId);
        Assert.Equal(HttpStatusCode.OK, (await seats.Http.GetAsync(new Uri(gateway.BaseAddress, "_licensing/healthz"))).StatusCode);
        Assert.Contains("start #2", gateway.Output);
    }
}
