using System.Diagnostics;
using System.Net;
using Gateway.FaultTests.Support;

namespace Gateway.FaultTests;

/// <summary>
/// "Several replicas, one truth" (issue 5 item 1): three real gateway processes on one Redis
/// admit from the same counters. Every test creates its own tenants through the API.
/// </summary>
public sealed class ReplicaConsistencyTests(ReplicaSet set, ITestOutputHelper output) : IClassFixture<ReplicaSet>
{
    private const int Rounds = 20;
    private const int Attempts = 600;
    private const int Cap = 20;

    [Fact]
    public async Task Concurrent_sessions_never_exceed_the_cap_across_three_replicas()
    {
        var elapsed = Stopwatch.StartNew();
        var admittedTotal = 0;
        var overAdmissions = 0;
        string? sampled = null;
        await using var sampler = new StoreSampler(set.Redis.Connection, () => Volatile.Read(ref sampled));
        for (var round = 0; round < Rounds; round++)
        {
            var tenant = $"cs-round-{round}";
            await set.Operator.PutPlanAsync(set.Replicas[round % 3], tenant, "ConcurrentSessions", Cap);
            Volatile.Write(ref sampled, tenant);

            var attempts = await Burst.RunAsync(Enumerable.Range(0, Attempts)
                .Select(i => (Func<Task<Attempt>>)(() => set.Seats.SendAsync(set.Replicas[i % 3], i % 3, tenant, $"user-{i}", $"device-{i}")))
                .ToArray());

            var admitted = attempts.Count(a => a.Forwarded);
            var refused = attempts.Count(a => a.Status == HttpStatusCode.TooManyRequests && a.Code == "seats-exhausted");
            var store = await StoreSnapshot.ReadAsync(set.Redis.Connection, tenant);
            overAdmissions += Math.Max(0, admitted - Cap) + (int)Math.Max(0, store.Sessions - Cap);
            admittedTotal += admitted;

            Assert.True(admitted == Cap, $"round {round}: {admitted} admitted (expected exactly {Cap}); {Describe(attempts)}");
            Assert.True(refused == Attempts - Cap, $"round {round}: {refused} refused with 429 seats-exhausted; {Describe(attempts)}");
            Assert.Equal(Cap, store.AssertInvariants($"round {round}").Sessions);
            Assert.Equal(Cap, (await set.Operator.GetTenantAsync(set.Replicas[(round + 1) % 3], tenant))!.ActiveSessions);
            // Each admitted attempt is one of the stored sessions: every replica admitted from the same counters.
            Assert.Equal(attempts.Where(a => a.Forwarded).Select(a => a.User).Order(), store.SessionsByUser.Keys.Order());
        }

        output.WriteLine($"ConcurrentSessions cap {Cap}: {Rounds} rounds x {Attempts} attempts over 3 replicas = {Rounds * Attempts} attempts; " +
                         $"admitted {admittedTotal} (= {Rounds} x {Cap}); over-admissions {overAdmissions}; " +
                         $"{sampler.Samples} store samples during the bursts, at most {sampler.MaxSessions} sessions in any; {elapsed.Elapsed.TotalSeconds:F1} s");
        Assert.Equal(0, overAdmissions);
        Assert.True(sampler.MaxSessions <= Cap && sampler.Violations.Count == 0, string.Join(Environment.NewLine, sampler.Violations.Take(10)));
    }

    [Fact]
    public async Task Registered_users_admit_exactly_the_active_users_and_a_user_without_a_session_always_gets_in()
    {
        // Per round: 20 of 600 users are active (seat limit 20).
        // Phase A: 600 concurrent attempts: the first 10 active users on two devices each (20) and 580
        //   inactive users. Exactly those 20 are admitted (10 of them borrowed); 580 are 403 user-inactive.
        // Phase B: 600 concurrent attempts: the other 10 active users (no session yet: guaranteed), the
        //   first 10 on a third device, 580 inactive users. All 10 newcomers get in by preempting the 10
        //   borrowed sessions; the third devices get 429; the total stays 20, one session per active user.
        var elapsed = Stopwatch.StartNew();
        var admittedA = 0;
        var admittedB = 0;
        var overAdmissions = 0;
        var lostGuarantees = 0;
        const int rounds = Rounds;
        string? sampled = null;
        await using var sampler = new StoreSampler(set.Redis.Connection, () => Volatile.Read(ref sampled));
        for (var round = 0; round < rounds; round++)
        {
            var tenant = $"ru-round-{round}";
            await set.Operator.PutPlanAsync(set.Replicas[round % 3], tenant, "RegisteredUsers", Cap);
            await set.Operator.ActivateAllAsync(set.Replicas[(round + 1) % 3], tenant, Enumerable.Range(0, Cap).Select(i => $"user-{i}"));
            Volatile.Write(ref sampled, tenant);

            var phaseA = new List<Func<Task<Attempt>>>();
            for (var i = 0; i < 10; i++)
            {
                var (user, first, second) = ($"user-{i}", i % 3, (i + 1) % 3);
                phaseA.Add(() => set.Seats.SendAsync(set.Replicas[first], first, tenant, user, "device-a"));
                phaseA.Add(() => set.Seats.SendAsync(set.Replicas[second], second, tenant, user, "device-b"));
            }
            for (var i = Cap; i < Attempts; i++)
            {
                var user = $"user-{i}";
                var replica = i % 3;
                phaseA.Add(() => set.Seats.SendAsync(set.Replicas[replica], replica, tenant, user, "device-a"));
            }
            var a = await Burst.RunAsync(Shuffle(phaseA, round));
            var storeA = (await StoreSnapshot.ReadAsync(set.Redis.Connection, tenant)).AssertInvariants($"round {round}, phase A");
            admittedA += a.Count(x => x.Forwarded);
            overAdmissions += (int)Math.Max(0, storeA.Sessions - Cap);
            Assert.True(a.Count(x => x.Forwarded) == Cap, $"round {round}, phase A: expected exactly {Cap} admitted; {Describe(a)}");
            Assert.True(a.Where(x => x.Forwarded).All(x => int.Parse(x.User["user-".Length..]) < 10), $"round {round}, phase A: an inactive user was admitted; {Describe(a)}");
            Assert.True(Attempts - Cap == a.Count(x => x.Status == HttpStatusCode.Forbidden && x.Code == "user-inactive"), $"round {round}, phase A: {Describe(a)}");
            Assert.Equal(Cap, storeA.Sessions);

            var phaseB = new List<Func<Task<Attempt>>>();
            for (var i = 0; i < Attempts; i++)
            {
                var user = $"user-{i}";
                var device = i < 10 ? "device-c" : "device-a";
                var replica = i % 3;
                phaseB.Add(() => set.Seats.SendAsync(set.Replicas[replica], replica, tenant, user, device));
            }
            var b = await Burst.RunAsync(Shuffle(phaseB, round + 1000));
            var storeB = (await StoreSnapshot.ReadAsync(set.Redis.Connection, tenant)).AssertInvariants($"round {round}, phase B");
            var newcomers = b.Where(x => int.Parse(x.User["user-".Length..]) is >= 10 and < Cap).ToArray();
            lostGuarantees += newcomers.Count(x => !x.Forwarded);
            admittedB += b.Count(x => x.Forwarded);
            overAdmissions += (int)Math.Max(0, storeB.Sessions - Cap);

            Assert.True(newcomers.All(x => x.Forwarded), $"round {round}, phase B: a guaranteed user was refused: {string.Join("; ", newcomers.Where(x => !x.Forwarded))}");
            Assert.True(b.Count(x => x.Forwarded) == 10, $"round {round}, phase B: expected exactly the 10 newcomers admitted; {Describe(b)}");
            Assert.True(10 == b.Count(x => x.Device == "device-c" && x.Status == HttpStatusCode.TooManyRequests && x.Code == "seats-exhausted"), $"round {round}, phase B: {Describe(b)}");
            Assert.Equal(Cap, storeB.Sessions);
            // The 10 borrowed sessions were the ones preempted: every active user now holds exactly one.
            Assert.Equal(Enumerable.Range(0, Cap).Select(i => $"user-{i}").Order(), storeB.SessionsByUser.Keys.Order());
            Assert.All(storeB.SessionsByUser.Values, n => Assert.Equal(1, n));
        }

        output.WriteLine($"RegisteredUsers seat limit {Cap}, {Cap} active of {Attempts} users: {rounds} rounds x 2 phases x {Attempts} attempts over 3 replicas = {rounds * 2 * Attempts} attempts; " +
                         $"admitted {admittedA} in phase A (= {rounds} x {Cap}), {admittedB} guaranteed newcomers in phase B (= {rounds} x 10, each preempting a borrowed session); " +
                         $"lost guarantees {lostGuarantees}; over-admissions {overAdmissions}; " +
                         $"{sampler.Samples} store samples during the bursts, at most {sampler.MaxSessions} sessions in any; {elapsed.Elapsed.TotalSeconds:F1} s");
        Assert.Equal(0, overAdmissions);
        Assert.True(sampler.MaxSessions <= Cap && sampler.Violations.Count == 0, string.Join(Environment.NewLine, sampler.Violations.Take(10)));
        Assert.Equal(0, lostGuarantees);
    }

    [Fact]
    public async Task Concurrent_activations_through_three_replicas_stop_exactly_at_the_seat_limit()
    {
        const int rounds = 5;
        const int seatLimit = 10;
        const int parallel = 40;
        var succeeded = 0;
        var conflicts = 0;
        for (var round = 0; round < rounds; round++)
        {
            var tenant = $"act-round-{round}";
            await set.Operator.PutPlanAsync(set.Replicas[0], tenant, "RegisteredUsers", seatLimit);

            var statuses = await Burst.RunAsync(Enumerable.Range(0, parallel)
                .Select(i => (Func<Task<HttpStatusCode>>)(() => set.Operator.SetActiveAsync(set.Replicas[i % 3], tenant, $"user-{i}", active: true)))
                .ToArray());

            var ok = statuses.Count(s => s is HttpStatusCode.OK or HttpStatusCode.Created);
            var refused = statuses.Count(s => s == HttpStatusCode.Conflict);
            succeeded += ok;
            conflicts += refused;
            Assert.True(ok == seatLimit && refused == parallel - seatLimit,
                $"round {round}: {ok} activations succeeded, {refused} got 409 (expected {seatLimit} and {parallel - seatLimit}): {string.Join(",", statuses.Select(s => (int)s))}");
            var store = (await StoreSnapshot.ReadAsync(set.Redis.Connection, tenant)).AssertInvariants($"round {round}");
            Assert.Equal(seatLimit, store.ActiveUsers);
            Assert.Equal(seatLimit, (await set.Operator.GetTenantAsync(set.Replicas[2], tenant))!.ActiveUsers);
        }

        output.WriteLine($"Activations: {rounds} rounds x {parallel} parallel PUT active=true over 3 replicas at seat limit {seatLimit}: {succeeded} succeeded (= {rounds} x {seatLimit}), {conflicts} x 409");
    }

    [Fact]
    public async Task Swaps_racing_with_logins_through_different_replicas_keep_sessions_within_active_users()
    {
        // RegisteredUsers, seat limit 10, 20 users of whom 10 are active. Each batch: 5 disjoint swaps
        // (an active user out, an inactive one in) through different replicas, racing with logins of all
        // 20 users on two devices each through every replica, while a sampler reads the store.
        const string tenant = "swap-race";
        const int seatLimit = 10;
        const int batches = 30;
        var users = Enumerable.Range(0, 2 * seatLimit).Select(i => $"user-{i}").ToArray();
        await set.Operator.PutPlanAsync(set.Replicas[0], tenant, "RegisteredUsers", seatLimit);
        await set.Operator.ActivateAllAsync(set.Replicas[1], tenant, users.Take(seatLimit));

        var sampler = new StoreSampler(set.Redis.Connection, () => tenant);
        var random = new Random(5);
        var swaps = 0;
        var logins = 0;
        var forwarded = 0;
        try
        {
            for (var batch = 0; batch < batches; batch++)
            {
                var before = await StoreSnapshot.ReadAsync(set.Redis.Connection, tenant);
                var active = (await set.Redis.Connection.GetDatabase().SetMembersAsync($"lic:{{{tenant}}}:active")).Select(v => (string)v!).ToHashSet();
                var outs = active.OrderBy(_ => random.Next()).Take(5).ToArray();
                var ins = users.Where(u => !active.Contains(u)).OrderBy(_ => random.Next()).Take(5).ToArray();

                var calls = new List<Func<Task<object>>>();
                for (var i = 0; i < outs.Length; i++)
                {
                    var (o, n, replica) = (outs[i], ins[i], i % 3);
                    calls.Add(async () => await set.Operator.SwapAsync(set.Replicas[replica], tenant, o, n));
                }
                foreach (var user in users)
                {
                    foreach (var device in new[] { "device-a", "device-b" })
                    {
                        var replica = random.Next(3);
                        calls.Add(async () => await set.Seats.SendAsync(set.Replicas[replica], replica, tenant, user, device));
                    }
                }

                var results = await Burst.RunAsync(calls.OrderBy(_ => random.Next()).ToArray());
                foreach (var swap in results.OfType<(HttpStatusCode Status, string Body)>())
                {
                    Assert.True(swap.Status == HttpStatusCode.OK, $"batch {batch}: swap answered {(int)swap.Status}: {swap.Body}");
                    swaps++;
                }
                var attempts = results.OfType<Attempt>().ToArray();
                logins += attempts.Length;
                forwarded += attempts.Count(a => a.Forwarded);
                Assert.All(attempts, a => Assert.True(a.Status is HttpStatusCode.OK or HttpStatusCode.Forbidden or HttpStatusCode.TooManyRequests, a.ToString()));

                var after = (await StoreSnapshot.ReadAsync(set.Redis.Connection, tenant)).AssertInvariants($"batch {batch}");
                Assert.Equal(seatLimit, after.ActiveUsers);
                Assert.True(after.Sessions <= after.ActiveUsers, after.ToString());
                Assert.True(before.ActiveUsers == seatLimit);
            }
        }
        finally
        {
            await sampler.DisposeAsync();
        }

        output.WriteLine($"Swaps racing logins over 3 replicas: {batches} batches, {swaps} swaps, {logins} login attempts ({forwarded} forwarded), {sampler.Samples} store samples, {sampler.Violations.Count} invariant violations");
        Assert.True(sampler.Violations.Count == 0, string.Join(Environment.NewLine, sampler.Violations.Take(10)));
    }

    private static IReadOnlyList<Func<Task<Attempt>>> Shuffle(List<Func<Task<Attempt>>> calls, int seed)
    {
        var random = new Random(seed);
        return calls.OrderBy(_ => random.Next()).ToArray();
    }

    private string Describe(IEnumerable<Attempt> attempts) =>
        string.Join(", ", attempts.GroupBy(a => $"{(int)a.Status} {a.Code}").OrderBy(g => g.Key).Select(g => $"{g.Count()} x {g.Key}"))
        + string.Concat(attempts.Where(a => a.Error is not null || (int)a.Status >= 500).Take(3).Select(a => $"{Environment.NewLine}  e.g. {a}"))
        + (attempts.Any(a => a.Error is not null) ? Environment.NewLine + string.Join(Environment.NewLine, set.Replicas.Select(r => r.Describe())) : "");
}
