using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using Gateway.FaultTests.Infrastructure;
using Gateway.FaultTests.Support;
using Gateway.Licensing.Tests.Infrastructure;
using Gateway.Tests.Infrastructure;

namespace Gateway.FaultTests;

/// <summary>
/// The outage policy on real processes: two gateway replicas under load, Redis (AOF, the shipped config) killed
/// with SIGKILL, then started again on the same port. Each policy: what is forwarded during the
/// outage, that no request hangs, and that admission resumes by itself without over-admission.
/// </summary>
public sealed class OutagePolicyTests(ITestOutputHelper output)
{
    private const string Tenant = "outage";
    private const int Cap = 40;
    private const int RegularSessions = 4;
    private static readonly TimeSpan Outage = TimeSpan.FromSeconds(3);
    private static readonly TimeSpan NoHang = TimeSpan.FromSeconds(3);
    private static readonly TimeSpan RecoveryBound = TimeSpan.FromSeconds(45);

    [Fact]
    public async Task KeepAdmitted_keeps_admitted_sessions_refuses_new_ones_with_503_and_recovers_by_itself()
    {
        var run = await RunAsync("KeepAdmitted", newcomers: true);

        Assert.All(run.Regulars, a => Assert.True(a.Forwarded, $"an admitted session was refused: {a}"));
        var during = run.Newcomers.Where(a => a.StartedAt >= run.KilledAt && a.StartedAt < run.RestartedAt).ToArray();
        Assert.NotEmpty(during);
        Assert.All(during, a => Assert.True(a.Status == HttpStatusCode.ServiceUnavailable && a.Code == "store-unavailable" && a.RetryAfter is not null,
            $"a new session during the outage must get 503 store-unavailable with Retry-After: {a}"));
        run.Report(output);
    }

    [Fact]
    public async Task FailClosed_refuses_every_enforced_request_while_the_store_is_down()
    {
        // Only sessions this replica already admitted are in traffic: nothing but the outage itself
        // can tell the gateway that the store is gone.
        var run = await RunAsync("FailClosed", newcomers: false);

        var settled = run.KillStarted + TimeSpan.FromSeconds(1);
        Assert.All(run.Regulars.Where(a => a.StartedAt < run.KillStarted), a => Assert.True(a.Forwarded, a.ToString()));
        var during = run.Regulars.Where(a => a.StartedAt >= settled && a.StartedAt < run.RestartedAt).ToArray();
        Assert.NotEmpty(during);
        Assert.All(during, a => Assert.True(a.Status == HttpStatusCode.ServiceUnavailable && a.Code == "store-unavailable",
            $"FailClosed: a request 1 s or more after the kill must get 503 store-unavailable: {a}"));
        Assert.All(run.Regulars.Where(a => a.StartedAt > run.RecoveredAt + TimeSpan.FromSeconds(1)), a => Assert.True(a.Forwarded, $"after recovery: {a}"));
        Assert.Contains(run.Regulars, a => a.StartedAt > run.RecoveredAt + TimeSpan.FromSeconds(1));
        run.Report(output);
    }

    [Fact]
    public async Task FailOpen_forwards_everything_while_the_store_is_down_and_reconciles_afterwards()
    {
        var run = await RunAsync("FailOpen", newcomers: true);

        Assert.All(run.Regulars, a => Assert.True(a.Forwarded, $"FailOpen: {a}"));
        Assert.All(run.Newcomers.Where(a => a.StartedAt < run.RestartedAt), a => Assert.True(a.Forwarded || a.Code == "seats-exhausted", $"FailOpen: {a}"));
        Assert.Contains(run.Newcomers, a => a.StartedAt >= run.KilledAt && a.StartedAt < run.RestartedAt && a.Forwarded);
        Assert.True(await run.Gateways[0].WaitForOutputAsync("applying the outage policy FailOpen", TimeSpan.FromSeconds(5)), "FailOpen is logged");
        run.Report(output);
    }

    [Fact]
    public async Task Revocations_reach_the_other_replica_within_a_second_before_and_after_a_redis_restart()
    {
        // A session ended by one replica stops on the others within 1 s. Deactivating a user
        // (RegisteredUsers) through replica 0 must stop that user's session cached on replica 1: its next
        // requests there are 403 user-inactive. Checked before and after Redis was killed and restarted
        // (the replicas must subscribe to revocations again by themselves).
        const string tenant = "revoke";
        await using var redis = await AofRedis.StartAsync();
        await using var backend = new LoopbackBackend();
        await backend.InitializeAsync();
        var settings = new GatewaySettings(redis.ConnectionString, backend.BaseAddress)
            .WithTenant(tenant, "RegisteredUsers", 10, ["user-0", "user-1", "user-2", "user-3"]);
        var gateways = await GatewayProcess.StartManyAsync(2, settings, output);
        await using var admin = gateways[0];
        await using var holder = gateways[1];
        var clock = Stopwatch.StartNew();
        using var seats = new Seats(clock);
        var ops = new Operator(seats.Http);
        await ops.WaitForTenantAsync(admin, tenant, TimeSpan.FromSeconds(30));
        var figures = new List<string>();

        for (var phase = 0; phase < 2; phase++)
        {
            var user = $"user-{phase}";
            for (var i = 0; i < 3; i++) Assert.True((await seats.SendAsync(holder, 1, tenant, user, "device")).Forwarded);
            Assert.Equal(HttpStatusCode.OK, await ops.SetActiveAsync(admin, tenant, user, active: false));
            var deactivated = clock.Elapsed;

            var attempts = new List<Attempt>();
            while (clock.Elapsed - deactivated < TimeSpan.FromSeconds(2))
            {
                attempts.Add(await seats.SendAsync(holder, 1, tenant, user, "device"));
                await Task.Delay(20);
            }
            var stopped = attempts.FirstOrDefault(a => a.Status == HttpStatusCode.Forbidden);
            Assert.All(attempts.Where(a => a.StartedAt >= deactivated + TimeSpan.FromSeconds(1)), a => Assert.True(
                a.Status == HttpStatusCode.Forbidden && a.Code == "user-inactive",
                $"{(phase == 0 ? "before" : "after")} the Redis restart: the deactivated user's session is still forwarded by the other replica 1 s later: {a}"));
            figures.Add($"{(phase == 0 ? "before" : "after")} the restart: {attempts.Count(a => a.Forwarded)} forwarded, stopped {(stopped!.StartedAt - deactivated).TotalMilliseconds:F0} ms after the deactivation");

            if (phase == 0)
            {
                await redis.StopAsync();
                await Task.Delay(TimeSpan.FromSeconds(1));
                await redis.StartAsync();
                foreach (var (gateway, r) in gateways.Select((g, r) => (g, r)))
                {
                    var restarted = Stopwatch.StartNew();
                    while (!(await seats.SendAsync(gateway, r, tenant, $"user-{2 + r}", "probe")).Forwarded)
                    {
                        Assert.True(restarted.Elapsed < RecoveryBound, $"{gateway.Name} did not resume admission after the restart");
                        await Task.Delay(100);
                    }
                }
            }
        }

        output.WriteLine($"Revocation across replicas (deactivate through replica 0, session cached on replica 1): {string.Join("; ", figures)}");
    }

    private sealed record OutageRun(
        string Policy,
        GatewayProcess[] Gateways,
        Attempt[] Regulars,
        Attempt[] Newcomers,
        TimeSpan KillStarted,
        TimeSpan KilledAt,
        TimeSpan RestartedAt,
        TimeSpan[] RecoveredAfter,
        TimeSpan RecoveredAt,
        long SessionsAfterRecovery,
        long SessionsAfterFill,
        int FillAdmitted)
    {
        public void Report(ITestOutputHelper output)
        {
            var all = Regulars.Concat(Newcomers).ToArray();
            var during = all.Where(a => a.StartedAt >= KillStarted && a.StartedAt < RestartedAt).ToArray();
            var first503 = during.Where(a => a.Status == HttpStatusCode.ServiceUnavailable).Select(a => a.StartedAt + a.Duration).DefaultIfEmpty().Min();
            var last200 = during.Where(a => a.Forwarded).Select(a => a.StartedAt + a.Duration).DefaultIfEmpty().Max();
            output.WriteLine($"{Policy}: {all.Length} requests ({during.Length} during the {(RestartedAt - KilledAt).TotalSeconds:F1} s outage: " +
                             string.Join(", ", during.GroupBy(a => $"{(int)a.Status} {a.Code}".Trim()).Select(g => $"{g.Count()} x {g.Key}")) + "); " +
                             (first503 == default ? "no 503; " : $"first 503 answered {(first503 - KillStarted).TotalMilliseconds:F0} ms after the kill; ") +
                             (last200 == default ? "" : $"last 200 during the outage answered {(last200 - KillStarted).TotalMilliseconds:F0} ms after the kill; ") +
                             $"slowest request during the outage {during.Select(a => a.Duration).DefaultIfEmpty().Max().TotalMilliseconds:F0} ms, overall {all.Select(a => a.Duration).Max().TotalMilliseconds:F0} ms; " +
                             $"admission resumed {string.Join(" / ", RecoveredAfter.Select(r => $"{r.TotalSeconds:F1} s"))} after the restart (per replica); " +
                             $"sessions after recovery {SessionsAfterRecovery} <= cap {Cap}; after a fill burst {SessionsAfterFill} (fill admitted {FillAdmitted}); over-admissions 0");
        }
    }

    private async Task<OutageRun> RunAsync(string policy, bool newcomers)
    {
        await using var redis = await AofRedis.StartAsync();
        await using var backend = new LoopbackBackend();
        await backend.InitializeAsync();
        var settings = new GatewaySettings(redis.ConnectionString, backend.BaseAddress)
            .With("Licensing:StoreUnavailable", policy)
            .WithTenant(Tenant, "ConcurrentSessions", Cap);
        var gateways = await GatewayProcess.StartManyAsync(2, settings, output);
        try
        {
            var pids = gateways.Select(g => g.ProcessId).ToArray();
            var clock = Stopwatch.StartNew();
            using var seats = new Seats(clock);
            var ops = new Operator(seats.Http);
            foreach (var gateway in gateways) await ops.WaitForTenantAsync(gateway, Tenant, TimeSpan.FromSeconds(30));

            // Sessions admitted before the outage; each keeps using the replica that admitted it.
            for (var i = 0; i < RegularSessions; i++)
            {
                var admitted = await seats.SendAsync(gateways[i % 2], i % 2, Tenant, $"regular-{i}", "device");
                Assert.True(admitted.Forwarded, admitted.ToString());
            }

            var regulars = new ConcurrentBag<Attempt>();
            var newcomerAttempts = new ConcurrentBag<Attempt>();
            using var stop = new CancellationTokenSource();
            using var stopNewcomers = new CancellationTokenSource(); // at the restart, so the fill below has room
            var load = new List<Task>();
            for (var i = 0; i < RegularSessions; i++)
            {
                var index = i;
                load.Add(Task.Run(async () =>
                {
                    while (!stop.IsCancellationRequested)
                    {
                        regulars.Add(await seats.SendAsync(gateways[index % 2], index % 2, Tenant, $"regular-{index}", "device"));
                        await Task.Delay(50);
                    }
                }));
            }
            if (newcomers)
            {
                load.Add(Task.Run(async () =>
                {
                    // A new user every 100 ms, not waiting for the previous answer: the rate does not depend on latency.
                    var pending = new List<Task>();
                    for (var n = 0; !stopNewcomers.IsCancellationRequested; n++)
                    {
                        var replica = n % 2;
                        var user = $"newcomer-{n}";
                        pending.Add(Task.Run(async () => newcomerAttempts.Add(await seats.SendAsync(gateways[replica], replica, Tenant, user, "device"))));
                        await Task.Delay(100);
                    }
                    await Task.WhenAll(pending);
                }));
            }

            await Task.Delay(TimeSpan.FromSeconds(1));
            var killStarted = clock.Elapsed;
            await redis.StopAsync(); // SIGKILL; returns once the process is gone
            var killedAt = clock.Elapsed;
            await Task.Delay(Outage);
            await stopNewcomers.CancelAsync();
            var restartedAt = clock.Elapsed;
            await redis.StartAsync(); // same port; the AOF brings the plan and the sessions back

            // Admission resumes by itself on every replica: a new user is admitted and recorded in the store.
            var recovered = new TimeSpan[gateways.Length];
            for (var r = 0; r < gateways.Length; r++)
            {
                for (var k = 0; ; k++)
                {
                    var user = $"recovery-{r}-{k}";
                    var attempt = await seats.SendAsync(gateways[r], r, Tenant, user, "device");
                    if (attempt.Forwarded && (await StoreSnapshot.ReadAsync(redis.Connection, Tenant)).SessionsByUser.ContainsKey(user))
                    {
                        recovered[r] = clock.Elapsed - restartedAt;
                        break;
                    }
                    Assert.True(clock.Elapsed - restartedAt < RecoveryBound, $"replica {r}: admission did not resume within {RecoveryBound} of the restart; last: {attempt}{Environment.NewLine}{GatewayProcess.Tail(gateways[r].Output, 30)}");
                    await Task.Delay(100);
                }
            }

            var recoveredAt = restartedAt + recovered.Max();
            await Task.Delay(1_500); // some traffic after recovery
            await stop.CancelAsync();
            await Task.WhenAll(load);
            Assert.Equal(pids, gateways.Select(g => g.ProcessId).ToArray());
            Assert.All(gateways, g => Assert.True(g.IsRunning, $"{g.Name} died"));

            var all = regulars.Concat(newcomerAttempts).ToArray();
            Assert.All(all, a => Assert.True(a.Status != 0, $"a request got no answer: {a}"));
            Assert.All(all, a => Assert.True(a.Duration < NoHang, $"a request took {a.Duration.TotalMilliseconds:F0} ms (no request may hang on a dead store): {a}"));
            Assert.All(all, a => Assert.True((int)a.Status < 500 || a.Code == "store-unavailable", $"an unexpected server error: {a}"));

            // No over-admission after recovery: the store holds at most the cap, and a burst of new
            // users fills it to exactly the cap, not beyond.
            var afterRecovery = (await StoreSnapshot.ReadAsync(redis.Connection, Tenant)).AssertInvariants($"{policy}: after recovery");
            var fill = await Burst.RunAsync(Enumerable.Range(0, Cap + 20)
                .Select(i => (Func<Task<Attempt>>)(() => seats.SendAsync(gateways[i % 2], i % 2, Tenant, $"fill-{i}", "device")))
                .ToArray());
            var afterFill = (await StoreSnapshot.ReadAsync(redis.Connection, Tenant)).AssertInvariants($"{policy}: after the fill burst");
            Assert.Equal(Cap, afterFill.Sessions);
            Assert.Equal(Cap - afterRecovery.Sessions, fill.Count(a => a.Forwarded));

            if (newcomers)
            {
                // Nothing let through during the outage holds a seat the store does not know: the users first
                // seen then (forwarded under FailOpen) are admitted through the store now, and it is full.
                var outageUsers = newcomerAttempts.Where(a => a.StartedAt >= killedAt && a.StartedAt < restartedAt && !afterFill.SessionsByUser.ContainsKey(a.User)).ToArray();
                Assert.NotEmpty(outageUsers);
                var reconciled = await Task.WhenAll(outageUsers.Select(a => seats.SendAsync(gateways[a.Replica], a.Replica, Tenant, a.User, a.Device)));
                Assert.All(reconciled, a => Assert.True(a.Status == HttpStatusCode.TooManyRequests && a.Code == "seats-exhausted", $"a session of the outage after the store filled up: {a}"));
                Assert.Equal(Cap, (await StoreSnapshot.ReadAsync(redis.Connection, Tenant)).AssertInvariants($"{policy}: at the end").Sessions);
            }

            return new OutageRun(policy, gateways, regulars.OrderBy(a => a.StartedAt).ToArray(), newcomerAttempts.OrderBy(a => a.StartedAt).ToArray(),
                killStarted, killedAt, restartedAt, recovered, recoveredAt, afterRecovery.Sessions, afterFill.Sessions, fill.Count(a => a.Forwarded));
        }
        finally
        {
            foreach (var gateway in gateways) await gateway.DisposeAsync();
        }
    }
}
