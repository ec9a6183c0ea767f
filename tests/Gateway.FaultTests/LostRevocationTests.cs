using System.Diagnostics;
using System.Net;
using Gateway.FaultTests.Infrastructure;
using Gateway.FaultTests.Support;
using Gateway.Licensing.Options;
using Gateway.Licensing.Store;
using Gateway.Licensing.Tests.Infrastructure;
using Gateway.Licensing.Tests.Support;
using Gateway.Tests.Support;
using Gateway.Tests.Infrastructure;
using StackExchange.Redis;

namespace Gateway.FaultTests;

/// <summary>
/// Revocations travel over pub/sub, at most once. On real gateway processes sharing one redis-server: a
/// session ended elsewhere must stop on the replica that has it cached within 1 s, also when that
/// replica's subscription drops (<c>CLIENT KILL TYPE pubsub</c>, what a reconnect or a failover does) and
/// the announcement is lost. Each trial deactivates one user (RegisteredUsers), so the replica's next
/// store decision for that user is 403 <c>user-inactive</c>, never a new session.
/// </summary>
public sealed class LostRevocationTests(ITestOutputHelper output)
{
    private const string Tenant = "lost";

    /// <summary>The 1 s window, measured from the test process (request start times, so a slow answer does not count against it).</summary>
    private static readonly TimeSpan Window = TimeSpan.FromSeconds(1);

    [Fact]
    public async Task A_session_ended_while_a_replicas_subscription_is_down_stops_there_within_a_second()
    {
        var trials = Trials.Count(3);
        var users = Enumerable.Range(0, 2 * trials).Select(i => $"user-{i}").ToArray();
        await using var redis = new RedisServerFixture();
        await redis.InitializeAsync();
        await using var backend = new LoopbackBackend();
        await backend.InitializeAsync();
        var settings = new GatewaySettings(redis.ConnectionString, backend.BaseAddress)
            .WithTenant(Tenant, "RegisteredUsers", users.Length + 1, users);
        var gateways = await GatewayProcess.StartManyAsync(2, settings, output);
        await using var admin = gateways[0];
        await using var holder = gateways[1];
        var clock = Stopwatch.StartNew();
        using var seats = new Seats(clock);
        var ops = new Operator(seats.Http);
        var counts = await ops.WaitForTenantAsync(admin, Tenant, TimeSpan.FromSeconds(30));
        Assert.Equal(users.Length, counts.ActiveUsers);

        // Ends sessions without telling anyone: the announcement of another replica, lost.
        await using var silentConnection = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString);
        var silent = new LicenseStore(silentConnection, new StaticOptionsMonitor<LicensingOptions>(new LicensingOptions()), []);
        var server = redis.Connection.GetServer("127.0.0.1", redis.Port);

        var lostWorst = TimeSpan.Zero;
        var racedWorst = TimeSpan.Zero;
        for (var trial = 0; trial < trials; trial++)
        {
            // 1. The announcement is lost, then the holder's subscription drops.
            var user = users[2 * trial];
            await CacheOnHolderAsync(seats, holder, user);
            var ended = await silent.SetUserActiveAsync(Tenant, user, false, "admin");
            Assert.NotEmpty(ended.EndedSessionIds);
            await Task.Delay(200);
            Assert.True((await seats.SendAsync(holder, 1, Tenant, user, "device")).Forwarded, "the holder forwards from its cache while nothing tells it otherwise");
            var killedAt = clock.Elapsed;
            await server.ExecuteAsync("CLIENT", "KILL", "TYPE", "pubsub");
            lostWorst = Max(lostWorst, await ForwardedForAsync(seats, holder, user, clock, killedAt, "after its subscription was killed (announcement lost)"));

            // 2. The subscription drops, and the session is ended through the other replica right away:
            //    its announcement may arrive before or after the holder has subscribed again.
            user = users[2 * trial + 1];
            await CacheOnHolderAsync(seats, holder, user);
            await server.ExecuteAsync("CLIENT", "KILL", "TYPE", "pubsub");
            var deactivatedAt = clock.Elapsed;
            Assert.Equal(HttpStatusCode.OK, await ops.SetActiveAsync(admin, Tenant, user, active: false));
            racedWorst = Max(racedWorst, await ForwardedForAsync(seats, holder, user, clock, deactivatedAt, "after another replica deactivated the user during a subscription drop"));
        }

        output.WriteLine($"{trials} trials: a revoked session was forwarded by the replica that had it cached at most {lostWorst.TotalMilliseconds:F0} ms after " +
                         $"its subscription was killed (announcement lost), and at most {racedWorst.TotalMilliseconds:F0} ms after a deactivation raced with the kill");
    }

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    private static async Task CacheOnHolderAsync(Seats seats, GatewayProcess holder, string user)
    {
        for (var i = 0; i < 3; i++) Assert.True((await seats.SendAsync(holder, 1, Tenant, user, "device")).Forwarded);
    }

    /// <summary>
    /// Sends the user's requests to the holder for 2 s from <paramref name="from"/>; returns how long after
    /// it the last forwarded one started, and asserts that none started later than the 1 s window.
    /// </summary>
    private static async Task<TimeSpan> ForwardedForAsync(Seats seats, GatewayProcess holder, string user, Stopwatch clock, TimeSpan from, string what)
    {
        var attempts = new List<Attempt>();
        while (clock.Elapsed - from < TimeSpan.FromSeconds(2))
        {
            attempts.Add(await seats.SendAsync(holder, 1, Tenant, user, "device"));
            await Task.Delay(10);
        }
        Assert.All(attempts.Where(a => !a.Forwarded), a => Assert.True(a.Status == HttpStatusCode.Forbidden && a.Code == "user-inactive", $"unexpected answer: {a}"));
        var lastForwarded = attempts.Where(a => a.Forwarded).Select(a => a.StartedAt - from).DefaultIfEmpty(TimeSpan.Zero).Max();
        Assert.True(lastForwarded <= Window, $"the ended session was still forwarded {lastForwarded.TotalMilliseconds:F0} ms {what}");
        Assert.Contains(attempts, a => a.Status == HttpStatusCode.Forbidden);
        return lastForwarded;
    }
}
