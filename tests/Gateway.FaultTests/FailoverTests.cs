using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json;
using Gateway.FaultTests.Infrastructure;
using Gateway.FaultTests.Support;
using Gateway.Licensing.Tests.Infrastructure;
using Gateway.Tests.Infrastructure;

namespace Gateway.FaultTests;

/// <summary>
/// An unplanned failover of a Redis Cluster primary (3 primaries, 3 replicas, all real processes): the
/// tenant's primary keeps taking writes while its replica cannot follow (its replication link is cut: it
/// can no longer authenticate to the primary), then the primary is killed and the stale replica is
/// promoted with <c>CLUSTER FAILOVER TAKEOVER</c>. Redis replication is asynchronous, so what the dead
/// primary had not passed on is gone. The gateway may answer 2xx to an admin write only when the write
/// survives that; a write it cannot make durable is 503 <c>store-not-durable</c>. Afterwards, a session
/// the gateway admitted on the dead primary is checked again with the new one, not trusted from cache.
/// </summary>
public sealed class FailoverTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Admin_writes_answered_2xx_survive_an_unplanned_failover_and_the_others_are_503_store_not_durable()
    {
        var clock = Stopwatch.StartNew();
        await using var cluster = new RedisClusterFixture { ReplicasPerPrimary = 1 };
        await cluster.InitializeAsync();
        await using var backend = new LoopbackBackend();
        await backend.InitializeAsync();
        var started = clock.Elapsed;

        var settings = new GatewaySettings(cluster.ConnectionString, backend.BaseAddress);
        await using var gateway = await GatewayProcess.StartAsync(settings, log: output);
        const string tenant = "failover";
        var (primary, replicas) = await cluster.SlotOwnerAsync($"lic:{{{tenant}}}:plan", cluster.Ports[0]);
        var replica = replicas.Single();

        using var seats = new Seats(clock);
        var ops = new Operator(seats.Http);

        // Before the cut: a plan, an active user with a session, all on both primary and replica.
        await ops.PutPlanAsync(gateway, tenant, "RegisteredUsers", 10);
        Assert.Equal(HttpStatusCode.Created, await ops.SetActiveAsync(gateway, tenant, "user-0", active: true));
        Assert.True((await seats.SendAsync(gateway, 0, tenant, "user-0", "device")).Forwarded);
        await WaitForReplicaAsync(cluster, primary, replica);

        // The cut: the replica can no longer authenticate to its primary and drops behind.
        Assert.Equal("+OK", await cluster.CommandAsync(replica, "CONFIG", "SET", "masteruser", "failover-test-cut"));
        Assert.Equal("+OK", await cluster.CommandAsync(replica, "CONFIG", "SET", "masterauth", "failover-test-cut"));
        await cluster.CommandAsync(primary, "CLIENT", "KILL", "TYPE", "replica");
        await WaitForAsync(async () => (await cluster.CommandAsync(primary, "INFO", "replication"))?.Contains("connected_slaves:0", StringComparison.Ordinal) == true,
            "the primary to lose its replica");

        var writes = new List<(string Write, string User, bool Active, HttpStatusCode Status, string Body)>();
        for (var i = 1; i <= 5; i++)
        {
            var (status, body) = await ops.SendAsync(gateway, HttpMethod.Put, $"tenants/{tenant}/users/user-{i}", """{"active":true}""");
            writes.Add(($"activate user-{i}", $"user-{i}", true, status, body));
        }
        // A session of user-1 admitted by the doomed primary (whether or not user-1's activation survives).
        var doomed = await seats.SendAsync(gateway, 0, tenant, "user-1", "device");
        Assert.True(doomed.Forwarded, $"user-1's activation was made on the primary, so its session is admitted there: {doomed}");
        {
            var (status, body) = await ops.SendAsync(gateway, HttpMethod.Put, $"tenants/{tenant}/users/user-0", """{"active":false}""");
            writes.Add(("deactivate user-0", "user-0", false, status, body));
        }

        // The crash and the promotion of the stale replica.
        var failoverAt = clock.Elapsed;
        cluster.Kill(primary);
        Assert.Equal("+OK", await cluster.CommandAsync(replica, "CLUSTER", "FAILOVER", "TAKEOVER"));
        await ops.WaitForTenantAsync(gateway, tenant, TimeSpan.FromSeconds(60));
        var recovered = clock.Elapsed - failoverAt;

        var active = await ops.ListActiveUsersAsync(gateway, tenant);
        var sessions = await ops.ListSessionsAsync(gateway, tenant);
        var failures = new List<string>();
        foreach (var (write, user, wanted, status, body) in writes)
        {
            if ((int)status is >= 200 and < 300)
            {
                if (active.Contains(user) != wanted) failures.Add($"{write}: {(int)status}, but it did not survive the failover");
                if (!wanted && sessions.Any(s => s.UserId == user)) failures.Add($"{write}: {(int)status}, but the session it ended is back");
            }
            else if (status != HttpStatusCode.ServiceUnavailable || Code(body) != "store-not-durable")
            {
                failures.Add($"{write}: {(int)status} {body}, expected 2xx or 503 store-not-durable");
            }
        }
        Assert.True(failures.Count == 0, string.Join(Environment.NewLine, failures));

        // No replica could acknowledge any of them, so none may claim to be durable.
        Assert.All(writes, w => Assert.True(w.Status == HttpStatusCode.ServiceUnavailable, $"{w.Write}: {(int)w.Status} {w.Body}"));

        // Reconciled: the cap holds on the new primary, and a session the gateway admitted on the dead
        // one is decided by the new one (user-1 is not active there), not forwarded from cache.
        var tenantView = await ops.GetTenantAsync(gateway, tenant);
        Assert.True(tenantView!.ActiveSessions <= tenantView.ActiveUsers, $"{tenantView.ActiveSessions} sessions for {tenantView.ActiveUsers} active users");
        Assert.DoesNotContain("user-1", active);
        var after = await seats.SendAsync(gateway, 0, tenant, "user-1", "device");
        Assert.True(!after.Forwarded, $"user-1 (session admitted before the failover: {doomed}) is not active on the new primary, yet: {after}");

        // The new primary has no replica left: writes are durable as far as they can be, and answered 2xx.
        Assert.Equal(HttpStatusCode.Created, await ops.SetActiveAsync(gateway, tenant, "user-6", active: true));
        Assert.Contains("user-6", await ops.ListActiveUsersAsync(gateway, tenant));

        output.WriteLine($"Before the failover: {doomed}; after: {after}");
        output.WriteLine(string.Join(Environment.NewLine, writes.Select(w => $"{w.Write}: {(int)w.Status} {Code(w.Body)}")));
        output.WriteLine($"Cluster start {started.TotalSeconds:F1} s; the tenant answered again {recovered.TotalSeconds:F1} s after the kill; test total {clock.Elapsed.TotalSeconds:F1} s");
    }

    private static string? Code(string body)
    {
        try
        {
            using var json = JsonDocument.Parse(body);
            return json.RootElement.TryGetProperty("code", out var code) ? code.GetString() : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>Waits until the replica has applied everything its primary has written.</summary>
    private static Task WaitForReplicaAsync(RedisClusterFixture cluster, int primary, int replica) =>
        WaitForAsync(async () =>
        {
            var written = Field(await cluster.CommandAsync(primary, "INFO", "replication"), "master_repl_offset");
            var applied = Field(await cluster.CommandAsync(replica, "INFO", "replication"), "slave_repl_offset");
            return written > 0 && applied >= written;
        }, "the replica to catch up");

    private static long Field(string? info, string name)
    {
        foreach (var line in (info ?? "").Split('\n'))
        {
            if (line.StartsWith(name + ":", StringComparison.Ordinal)) return long.Parse(line[(name.Length + 1)..].Trim(), CultureInfo.InvariantCulture);
        }
        return -1;
    }

    private static async Task WaitForAsync(Func<Task<bool>> condition, string what)
    {
        var elapsed = Stopwatch.StartNew();
        while (!await condition())
        {
            if (elapsed.Elapsed > TimeSpan.FromSeconds(30)) throw new TimeoutException($"Timed out waiting for {what}.");
            await Task.Delay(50);
        }
    }
}
