using System.Collections.Concurrent;
using StackExchange.Redis;

namespace Gateway.Licensing.Store;

/// <summary>
/// The fixed key set of a tenant, all under its hash tag <c>lic:{tenant}:</c> so one script's keys
/// live in one Redis Cluster slot. The order is the order <c>common.lua</c> reads them in.
/// </summary>
internal static class TenantKeys
{
    /// <summary>The registry of tenant ids: a global key, written outside the scripts.</summary>
    public static readonly RedisKey Registry = "lic:tenants";

    /// <summary>
    /// The due index: tenant id → the store time (ms) at or after which the tenant may have expired
    /// sessions (or users to forget). Written outside the scripts, from what they reply, so a score is
    /// never later than the tenant's real next due time, only possibly earlier.
    /// </summary>
    public static readonly RedisKey DueIndex = "lic:due";

    /// <summary>Lease of the replica that sweeps the due tenants this sweep interval.</summary>
    public static readonly RedisKey DueSweepLease = "lic:sweep:due";

    /// <summary>Lease of the replica that runs the full pass over every tenant this period.</summary>
    public static readonly RedisKey FullSweepLease = "lic:sweep:full";

    /// <summary>The sweep's own bookkeeping: written on the store's clock, whatever traffic there is.</summary>
    public static readonly IReadOnlyList<RedisKey> SweepKeys = [DueIndex, DueSweepLease, FullSweepLease];

    /// <summary>The pub/sub channel on which replicas announce ended sessions.</summary>
    public static readonly RedisChannel RevocationChannel = RedisChannel.Literal("lic:revocations");

    private static readonly string[] Suffixes =
        ["plan", "reserved", "users", "active", "sessions", "recency", "svc", "usess", "audit", "usage", "seen",
            "sessionlog", "unused", "shadow"];

    internal const int Plan = 0, Reserved = 1, Users = 2, Active = 3, Sessions = 4, Recency = 5,
        Service = 6, UserSessions = 7, Audit = 8, Usage = 9, Seen = 10, SessionLog = 11, Unused = 12, Shadow = 13;

    /// <summary>
    /// The first word of a user's session list in <see cref="UserSessions"/> while the user, never active, is
    /// out of <see cref="Unused"/> because a session lives (common.lua's PARKED_MARK); not a session id.
    /// </summary>
    internal const string ParkedMark = "!";

    private const int MaxCachedTenants = 10_000;
    private static readonly ConcurrentDictionary<string, RedisKey[]> Cache = new(StringComparer.Ordinal);

    /// <summary>Keys of <paramref name="tenant"/>, which must already be a valid tenant id.</summary>
    public static RedisKey[] For(string tenant)
    {
        if (Cache.TryGetValue(tenant, out var keys)) return keys;
        keys = Build(tenant);
        if (Cache.Count < MaxCachedTenants) Cache.TryAdd(tenant, keys);
        return keys;
    }

    private static RedisKey[] Build(string tenant)
    {
        var keys = new RedisKey[Suffixes.Length];
        for (var i = 0; i < Suffixes.Length; i++) keys[i] = $"lic:{{{tenant}}}:{Suffixes[i]}";
        return keys;
    }
}
