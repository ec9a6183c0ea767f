using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using Gateway.FaultTests.Infrastructure;
using Gateway.FaultTests.Support;
using Gateway.Tests.Infrastructure;
using Gateway.Tests.Support;
using StackExchange.Redis;

namespace Gateway.FaultTests;

/// <summary>
/// Issue 5 item 7: a bounded mixed workload on two replicas (logins of users, devices and service
/// identities, idle expiry, admin churn, a Redis restart with AOF in the middle). Afterwards the store's
/// records of live sessions agree, the API shows the store's counts, every session ends by itself,
/// and no key beyond the fixed per-tenant key set is left behind.
/// </summary>
public sealed class SoakTests(ITestOutputHelper output)
{
    private const string Concurrent = "soak-cs";
    private const string Registered = "soak-ru";
    private const int ConcurrentPool = 40;
    private const int RegisteredPool = 30;
    private const int RegisteredSeats = 12;
    private const int LoginWorkers = 6;
    private const int MaxRequestsPerWorker = 3_000;
    private static readonly TimeSpan Load = TimeSpan.FromSeconds(40);
    private static readonly TimeSpan KillAt = TimeSpan.FromSeconds(15);
    private static readonly TimeSpan Down = TimeSpan.FromSeconds(1.5);
    private static readonly TimeSpan Idle = TimeSpan.FromSeconds(4);
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(45);

    [Fact]
    public async Task Mixed_workload_with_a_redis_restart_leaves_consistent_counts_and_no_stray_keys()
    {
        await using var redis = await AofRedis.StartAsync();
        await using var backend = new LoopbackBackend();
        await backend.InitializeAsync();
        var settings = new GatewaySettings(redis.ConnectionString, backend.BaseAddress)
            .With("Licensing:IdleTimeout", "00:00:04")
            .With("Licensing:SweepInterval", "00:00:00.5")
            .With("Licensing:ServiceSessionLifetime", "00:00:06");
        var gateways = await GatewayProcess.StartManyAsync(2, settings, output);
        await using var g0 = gateways[0];
        await using var g1 = gateways[1];
        var clock = Stopwatch.StartNew();
        using var seats = new Seats(clock);
        var ops = new Operator(seats.Http);

        await ops.PutPlanAsync(g0, Concurrent, "ConcurrentSessions", 15);
        await ops.PutPlanAsync(g1, Registered, "RegisteredUsers", RegisteredSeats);
        await ops.ActivateAllAsync(g0, Registered, Enumerable.Range(0, RegisteredSeats).Select(i => $"ru-{i}"));

        var logins = new ConcurrentBag<Attempt>();
        var admin = new ConcurrentBag<(string Op, HttpStatusCode Status, TimeSpan StartedAt, string Body)>();
        var violations = new ConcurrentBag<string>();
        var samples = 0;
        var started = clock.Elapsed;
        using var stop = new CancellationTokenSource();

        var workers = new List<Task>();
        for (var w = 0; w < LoginWorkers; w++)
        {
            var random = new Random(100 + w);
            workers.Add(Task.Run(async () =>
            {
                for (var n = 0; n < MaxRequestsPerWorker && !stop.IsCancellationRequested; n++)
                {
                    // The hot users move on every 6 s; the ones left behind go idle and their sessions expire.
                    var shift = (int)((clock.Elapsed - started).TotalSeconds / 6) * 5;
                    var replica = random.Next(2);
                    Attempt attempt;
                    if (random.Next(10) < 5)
                    {
                        var user = $"cs-{(shift + random.Next(14)) % ConcurrentPool}";
                        attempt = random.Next(20) == 0
                            ? await seats.SendAsync(gateways[replica], replica, Concurrent, $"svc-{random.Next(3)}", "service", TestTokens.Service(Concurrent, $"svc-{random.Next(3)}"))
                            : await seats.SendAsync(gateways[replica], replica, Concurrent, user, $"d{random.Next(3)}");
                    }
                    else
                    {
                        var user = $"ru-{(shift + random.Next(16)) % RegisteredPool}";
                        attempt = await seats.SendAsync(gateways[replica], replica, Registered, user, $"d{random.Next(2)}");
                    }
                    logins.Add(attempt);
                    await Task.Delay(random.Next(10, 40));
                }
            }));
        }

        workers.Add(Task.Run(async () =>
        {
            var random = new Random(7);
            for (var n = 0; n < 1_000 && !stop.IsCancellationRequested; n++)
            {
                var gateway = gateways[random.Next(2)];
                var at = clock.Elapsed;
                var user = $"ru-{random.Next(RegisteredPool)}";
                try
                {
                    switch (random.Next(10))
                    {
                        case < 3:
                            admin.Add(("activate", await ops.SetActiveAsync(gateway, Registered, user, true), at, ""));
                            break;
                        case < 5:
                            admin.Add(("deactivate", await ops.SetActiveAsync(gateway, Registered, user, false), at, ""));
                            break;
                        case < 7:
                            var (status, body) = await ops.SwapAsync(gateway, Registered, user, $"ru-{(random.Next(RegisteredPool - 1) + 1 + int.Parse(user[3..])) % RegisteredPool}");
                            admin.Add(("swap", status, at, body));
                            break;
                        case < 9:
                            var tenant = random.Next(2) == 0 ? Concurrent : Registered;
                            var (listed, list) = await ops.SendAsync(gateway, HttpMethod.Get, $"tenants/{tenant}/sessions?limit=1000");
                            if (listed != HttpStatusCode.OK)
                            {
                                admin.Add(("list", listed, at, list));
                                break;
                            }
                            var ids = System.Text.Json.JsonDocument.Parse(list).RootElement.GetProperty("sessions").EnumerateArray().Select(s => s.GetProperty("sessionId").GetString()!).ToArray();
                            if (ids.Length == 0) break;
                            var (ended, endBody) = await ops.SendAsync(gateway, HttpMethod.Delete, $"tenants/{tenant}/sessions/{ids[random.Next(ids.Length)]}");
                            admin.Add(("end-session", ended, at, endBody));
                            break;
                        default:
                            var (planned, planBody) = await ops.SendAsync(gateway, HttpMethod.Put, $"tenants/{Concurrent}", $$"""{"model":"ConcurrentSessions","seatLimit":{{random.Next(10, 16)}}}""");
                            admin.Add(("plan", planned, at, planBody));
                            break;
                    }
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
                {
                    admin.Add(("(no answer)", 0, at, e.Message));
                }
                await Task.Delay(random.Next(100, 250));
            }
        }));

        var sampler = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                foreach (var tenant in new[] { Concurrent, Registered })
                {
                    try
                    {
                        var s = await StoreSnapshot.ReadAsync(redis.Connection, tenant);
                        Interlocked.Increment(ref samples);
                        if (!s.Consistent || s.Sessions > s.Cap || s.ActiveUsers > s.SeatLimit || (s.Model == "RegisteredUsers" && s.HoldersNotActive.Count > 0))
                            violations.Add($"{tenant} at {clock.Elapsed.TotalSeconds:F1} s: {s}");
                    }
                    catch (Exception e) when (e is RedisException or TimeoutException)
                    {
                        // the store is down (the restart)
                    }
                }
                await Task.Delay(200);
            }
        });

        // The Redis restart in the middle of the load.
        await Task.Delay(KillAt);
        var killedAt = clock.Elapsed;
        await redis.StopAsync();
        await Task.Delay(Down);
        var restartedAt = clock.Elapsed;
        await redis.StartAsync();
        var recovered = new TimeSpan[2];
        for (var r = 0; r < 2; r++)
        {
            for (var k = 0; ; k++)
            {
                var probe = await seats.SendAsync(gateways[r], r, Concurrent, $"probe-{r}-{k}", "probe");
                if (probe.Status is HttpStatusCode.OK or HttpStatusCode.TooManyRequests)
                {
                    recovered[r] = clock.Elapsed - restartedAt;
                    break;
                }
                Assert.True(clock.Elapsed - restartedAt < Generous, $"replica {r} did not resume admission after the restart: {probe}");
                await Task.Delay(100);
            }
        }
        var recoveredAt = restartedAt + recovered.Max();

        var remaining = Load - (clock.Elapsed - started);
        if (remaining > TimeSpan.Zero) await Task.Delay(remaining);
        await stop.CancelAsync();
        await Task.WhenAll(workers);
        await sampler;
        var loadEnded = clock.Elapsed;

        // Every answer is one the spec allows; 503 only around the outage; nothing hung.
        var outage = (From: killedAt, To: recoveredAt + TimeSpan.FromSeconds(2));
        bool InOutage(TimeSpan at) => at >= outage.From && at <= outage.To;
        Assert.All(logins, a => Assert.True(
            a.Status is HttpStatusCode.OK || (a.Status, a.Code) is (HttpStatusCode.Forbidden, "user-inactive") or (HttpStatusCode.TooManyRequests, "seats-exhausted")
            || ((a.Status, a.Code) is (HttpStatusCode.ServiceUnavailable, "store-unavailable") && InOutage(a.StartedAt)),
            $"unexpected answer to a login: {a}"));
        Assert.All(admin, a => Assert.True(
            a.Status is HttpStatusCode.OK or HttpStatusCode.Created or HttpStatusCode.NoContent or HttpStatusCode.Conflict or HttpStatusCode.NotFound
            || (a.Status == HttpStatusCode.ServiceUnavailable && InOutage(a.StartedAt)),
            $"unexpected answer to {a.Op} at {a.StartedAt.TotalSeconds:F1} s: {(int)a.Status} {a.Body}"));
        Assert.All(gateways, g => Assert.True(g.IsRunning, $"{g.Name} died"));
        Assert.True(violations.IsEmpty, $"invariant violations during the soak:{Environment.NewLine}{string.Join(Environment.NewLine, violations.Take(10))}");

        // The store's records agree, and the API shows the store's counts.
        var final = new Dictionary<string, StoreSnapshot>();
        foreach (var tenant in new[] { Concurrent, Registered })
        {
            final[tenant] = (await StoreSnapshot.ReadAsync(redis.Connection, tenant)).AssertInvariants($"{tenant} after the load");
            await AssertApiMatchesStoreAsync(ops, gateways, redis.Connection, tenant);
        }

        // Every session ends by itself (idle timeout, service lifetime) and leaves nothing behind.
        var drainedAfter = await WaitForNoSessionsAsync(redis.Connection, clock, loadEnded);
        var keys = await StoreSnapshot.AllKeysAsync(redis.Connection, redis.Port);
        var stray = keys.Where(k => !StoreSnapshot.AllowedKey.IsMatch(k)).ToArray();
        Assert.True(stray.Length == 0, $"keys outside the fixed per-tenant key set: {string.Join(", ", stray.Take(20))}");
        foreach (var tenant in new[] { Concurrent, Registered })
        {
            foreach (var record in new[] { "sessions", "recency", "svc", "usess" })
                Assert.False(await redis.Connection.GetDatabase().KeyExistsAsync($"lic:{{{tenant}}}:{record}"), $"lic:{{{tenant}}}:{record} is left although no session is live");
            Assert.Equal(0, (await ops.GetTenantAsync(g0, tenant))!.ActiveSessions);
        }

        string Count<T>(IEnumerable<T> items, Func<T, string> key) =>
            string.Join(", ", items.GroupBy(key).OrderByDescending(g => g.Count()).Select(g => $"{g.Count()} x {g.Key}"));
        output.WriteLine($"Soak: {(loadEnded - started).TotalSeconds:F0} s over 2 replicas; {logins.Count} logins ({Count(logins, a => $"{(int)a.Status} {a.Code}".Trim())}); " +
                         $"{admin.Count} admin calls ({Count(admin, a => $"{a.Op} {(int)a.Status}")}); " +
                         $"Redis killed at {killedAt.TotalSeconds:F1} s, down {Down.TotalSeconds:F1} s, admission resumed {string.Join(" / ", recovered.Select(r => $"{r.TotalSeconds:F1} s"))} after the restart; " +
                         $"{samples} store samples, {violations.Count} invariant violations; at the end {string.Join("; ", final.Select(f => $"{f.Key}: {f.Value}"))}; " +
                         $"all sessions ended {drainedAfter.TotalSeconds:F1} s after the load; {keys.Count} keys, all in the fixed per-tenant key set; " +
                         $"slowest login {logins.Max(a => a.Duration).TotalMilliseconds:F0} ms");
    }

    private static async Task AssertApiMatchesStoreAsync(Operator ops, GatewayProcess[] gateways, IConnectionMultiplexer redis, string tenant)
    {
        // Idle sessions may end between two reads: retry until one read of each agrees.
        for (var attempt = 0; ; attempt++)
        {
            var api = await ops.GetTenantAsync(gateways[attempt % 2], tenant);
            var store = await StoreSnapshot.ReadAsync(redis, tenant);
            if (api!.ActiveSessions == store.Sessions && api.ActiveUsers == store.ActiveUsers && api.SeatLimit == store.SeatLimit) return;
            Assert.True(attempt < 20, $"{tenant}: the API shows {api}, the store {store}");
            await Task.Delay(50);
        }
    }

    private static async Task<TimeSpan> WaitForNoSessionsAsync(IConnectionMultiplexer redis, Stopwatch clock, TimeSpan since)
    {
        while (true)
        {
            var snapshots = await Task.WhenAll(StoreSnapshot.ReadAsync(redis, Concurrent), StoreSnapshot.ReadAsync(redis, Registered));
            foreach (var s in snapshots) s.AssertInvariants("while sessions idle out");
            if (snapshots.All(s => s.Sessions == 0 && s.Recency == 0 && s.UserSessionListTotal == 0)) return clock.Elapsed - since;
            Assert.True(clock.Elapsed - since < Idle + Generous, $"sessions did not end by themselves: {string.Join("; ", snapshots.Select(s => s.ToString()))}");
            await Task.Delay(100);
        }
    }
}
