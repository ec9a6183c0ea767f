using System.Text;
using Gateway.Licensing.Store;
using Gateway.Tests.Support;
using StackExchange.Redis;

namespace Gateway.Tests.Hostile;

/// <summary>
/// Every key of the store with its type and full content (not its TTL), in a stable order: equal
/// snapshots mean a request changed nothing in the store, whatever key it might have touched. The
/// sweep's own keys (<see cref="TenantKeys.SweepKeys"/>) are left out: they change with time.
/// </summary>
public sealed record StoreSnapshot(IReadOnlyDictionary<string, string> Keys, IReadOnlyList<string> RegisteredTenants)
{
    public static async Task<StoreSnapshot> TakeAsync(IConnectionMultiplexer connection)
    {
        var db = connection.GetDatabase();
        var server = connection.GetServers().Single();
        var keys = new List<RedisKey>();
        // The sweep's bookkeeping (leases, the due index) changes with the store's clock, not with requests.
        await foreach (var key in server.KeysAsync(pattern: "*", pageSize: 1000))
        {
            if (!TenantKeys.SweepKeys.Contains(key)) keys.Add(key);
        }
        // All reads at once (one pipeline), not one round trip after the other.
        var registry = db.SetMembersAsync(TenantKeys.Registry);
        var contents = await Task.WhenAll(keys.Select(key => ReadAsync(db, key)));
        var snapshot = new SortedDictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < keys.Count; i++)
        {
            if (contents[i] is { } content) snapshot[keys[i]!] = content;
        }
        return new StoreSnapshot(snapshot, (await registry).Select(m => (string)m!).ToArray());
    }

    /// <summary>A key's type and full content as text, in a stable order; null when the key does not exist.</summary>
    internal static async Task<string?> ReadAsync(IDatabaseAsync db, RedisKey key)
    {
        var type = await db.KeyTypeAsync(key);
        var text = new StringBuilder().Append(type).Append(':');
        switch (type)
        {
            case RedisType.String:
                text.Append((string?)await db.StringGetAsync(key));
                break;
            case RedisType.Hash:
                foreach (var e in (await db.HashGetAllAsync(key)).OrderBy(e => (string)e.Name!, StringComparer.Ordinal)) text.Append(e.Name).Append("->").Append(e.Value).Append(';');
                break;
            case RedisType.Set:
                foreach (var m in (await db.SetMembersAsync(key)).Select(m => (string)m!).Order(StringComparer.Ordinal)) text.Append(m).Append(';');
                break;
            case RedisType.SortedSet:
                foreach (var e in await db.SortedSetRangeByRankWithScoresAsync(key)) text.Append(e.Element).Append('@').Append(e.Score).Append(';');
                break;
            case RedisType.List:
                foreach (var v in await db.ListRangeAsync(key)) text.Append(v).Append(';');
                break;
            case RedisType.None:
                return null; // expired between SCAN and TYPE
            default:
                text.Append('?');
                break;
        }
        return text.ToString();
    }

    /// <summary>Keys whose presence or content differ, for an assertion message.</summary>
    public IEnumerable<string> Diff(StoreSnapshot after) =>
        Keys.Keys.Union(after.Keys.Keys).Where(k => !Keys.TryGetValue(k, out var a) || !after.Keys.TryGetValue(k, out var b) || a != b).Order(StringComparer.Ordinal);

    public void AssertUnchanged(StoreSnapshot after, string what)
    {
        var diff = Diff(after).ToArray();
        Assert.True(diff.Length == 0, $"{what}: the store changed: {string.Join(", ", diff.Select(k => Printable.Shorten(k)))}");
    }

    /// <summary>
    /// Every key is a key the gateway owns by design: the tenant registry, or one of the fixed key set
    /// of a tenant in the registry. A hostile id that made it into a key name, or a request
    /// that wrote keys of a tenant without a plan, would show here.
    /// </summary>
    public void AssertOnlyKnownKeys(string what)
    {
        var known = new HashSet<string>(StringComparer.Ordinal) { TenantKeys.Registry.ToString() };
        foreach (var tenant in RegisteredTenants) foreach (var key in TenantKeys.For(tenant)) known.Add(key.ToString());
        var foreign = Keys.Keys.Where(k => !known.Contains(k)).ToArray();
        Assert.True(foreign.Length == 0, $"{what}: keys outside the registered tenants' fixed key sets: {string.Join(", ", foreign.Select(k => Printable.Shorten(k)))}");
    }
}
