using System.Text.RegularExpressions;
using StackExchange.Redis;

namespace Gateway.FaultTests.Support;

/// <summary>
/// A tenant's licensing state read straight from Redis in one script, so the numbers are one
/// consistent moment of the store (the admission scripts run atomically around it).
/// </summary>
public sealed record StoreSnapshot(
    long Sessions,
    long Recency,
    long UserSessionListTotal,
    long ActiveUsers,
    long SeatLimit,
    string? Model,
    IReadOnlyDictionary<string, int> SessionsByUser,
    IReadOnlyList<string> HoldersNotActive,
    IReadOnlyList<string> MisfiledHolders)
{
    // KEYS: plan, active, sessions, recency, usess, unused (the tenant's own keys, one hash slot). A
    // user's list may start with '!', the mark of a never-active user kept out of unused while a
    // session lives: not a session.
    private const string Script = """
        local sessions = redis.call('HLEN', KEYS[3])
        local recency = redis.call('ZCARD', KEYS[4])
        local plan = redis.call('HMGET', KEYS[1], 'model', 'seatLimit')
        local usess = redis.call('HGETALL', KEYS[5])
        local by_user, not_active, misfiled, total = {}, {}, {}, 0
        for i = 1, #usess, 2 do
          local n, marked = 0, false
          for w in string.gmatch(usess[i + 1], '%S+') do
            if w == '!' and n == 0 and not marked then marked = true else n = n + 1 end
          end
          total = total + n
          by_user[#by_user + 1] = usess[i]
          by_user[#by_user + 1] = n
          local active = redis.call('SISMEMBER', KEYS[2], usess[i]) == 1
          if not active then not_active[#not_active + 1] = usess[i] end
          -- A holder is never in unused; a marked holder was never active.
          if redis.call('ZSCORE', KEYS[6], usess[i]) or (marked and active) then misfiled[#misfiled + 1] = usess[i] end
        end
        return { sessions, recency, total, redis.call('SCARD', KEYS[2]), plan[2] or '-1', plan[1] or '', by_user, not_active, misfiled }
        """;

    /// <summary>The fixed per-tenant key set, the registry and the sweep's keys: the only keys the gateway may leave in Redis.</summary>
    public static readonly Regex AllowedKey = new(@"^(lic:tenants|lic:due|lic:sweep:due|lic:sweep:full|lic:\{[A-Za-z0-9._-]{1,64}\}:(plan|reserved|users|active|sessions|recency|svc|usess|audit|usage|seen|sessionlog|unused|shadow))$", RegexOptions.CultureInvariant);

    public static async Task<StoreSnapshot> ReadAsync(IConnectionMultiplexer redis, string tenant)
    {
        RedisKey[] keys = [$"lic:{{{tenant}}}:plan", $"lic:{{{tenant}}}:active", $"lic:{{{tenant}}}:sessions", $"lic:{{{tenant}}}:recency", $"lic:{{{tenant}}}:usess", $"lic:{{{tenant}}}:unused"];
        var reply = (RedisResult[])(await redis.GetDatabase().ScriptEvaluateAsync(Script, keys))!;
        var pairs = (RedisResult[])reply[6]!;
        var byUser = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i + 1 < pairs.Length; i += 2) byUser[(string)pairs[i]!] = (int)pairs[i + 1];
        var model = (string?)reply[5];
        return new StoreSnapshot(
            (long)reply[0], (long)reply[1], (long)reply[2], (long)reply[3], long.Parse((string)reply[4]!),
            string.IsNullOrEmpty(model) ? null : model,
            byUser,
            ((RedisResult[])reply[7]!).Select(r => (string)r!).ToArray(),
            ((RedisResult[])reply[8]!).Select(r => (string)r!).ToArray());
    }

    /// <summary>The three records of the live sessions agree: HLEN sessions == ZCARD recency == sum of the per-user lists.</summary>
    public bool Consistent => Sessions == Recency && Sessions == UserSessionListTotal;

    /// <summary>Sessions the plan allows: active users (RegisteredUsers, at most the seat limit) or the seat limit.</summary>
    public long Cap => Model == "RegisteredUsers" ? Math.Min(ActiveUsers, SeatLimit) : SeatLimit;

    /// <summary>Asserts the admission invariants: records agree, sessions ≤ cap, active users ≤ seat limit, only active users hold sessions (RegisteredUsers).</summary>
    public StoreSnapshot AssertInvariants(string context)
    {
        Assert.True(Consistent, $"{context}: the session records disagree: {this}");
        Assert.True(Sessions <= Cap, $"{context}: {Sessions} sessions exceed the cap {Cap}: {this}");
        Assert.True(ActiveUsers <= SeatLimit, $"{context}: {ActiveUsers} active users exceed the seat limit {SeatLimit}: {this}");
        if (Model == "RegisteredUsers")
            Assert.True(HoldersNotActive.Count == 0, $"{context}: inactive users hold sessions: {string.Join(", ", HoldersNotActive)}");
        Assert.True(MisfiledHolders.Count == 0, $"{context}: users holding sessions are in the unused index, or marked never-active while active: {string.Join(", ", MisfiledHolders)}");
        return this;
    }

    public override string ToString() =>
        $"sessions={Sessions} recency={Recency} usess={UserSessionListTotal} activeUsers={ActiveUsers} seatLimit={SeatLimit} model={Model} holders={SessionsByUser.Count}";

    /// <summary>Every key in the database (SCAN).</summary>
    public static async Task<IReadOnlyList<string>> AllKeysAsync(IConnectionMultiplexer redis, int port)
    {
        var keys = new List<string>();
        await foreach (var key in redis.GetServer("127.0.0.1", port).KeysAsync(pageSize: 500)) keys.Add(key!);
        return keys;
    }
}
