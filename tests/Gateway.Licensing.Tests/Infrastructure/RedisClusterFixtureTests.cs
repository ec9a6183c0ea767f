using StackExchange.Redis;

namespace Gateway.Licensing.Tests.Infrastructure;

[Collection("redis-cluster")]
public sealed class RedisClusterFixtureTests(RedisClusterFixture cluster)
{
    [Fact]
    public async Task Keys_in_different_slots_land_on_different_nodes_and_read_back()
    {
        await cluster.FlushAsync();
        var db = cluster.Connection.GetDatabase();

        // One key per primary: the 16384 slots are split 3 ways by redis-cli --cluster create.
        var keys = Enumerable.Range(0, 1_000)
            .Select(i => (RedisKey)$"fixture:key:{i}")
            .GroupBy(key => cluster.Connection.GetServer(key).EndPoint.ToString())
            .Select(g => g.First())
            .ToArray();
        Assert.Equal(3, keys.Length);

        foreach (var key in keys)
        {
            await db.StringSetAsync(key, $"value of {key}");
        }

        foreach (var key in keys)
        {
            Assert.Equal($"value of {key}", (string?)await db.StringGetAsync(key));
        }

        var primaries = cluster.Connection.GetServers().Where(s => !s.IsReplica).ToArray();
        Assert.Equal(3, primaries.Length);
        foreach (var server in primaries)
        {
            Assert.Equal(1, await server.DatabaseSizeAsync());
        }
    }

    [Fact]
    public async Task A_script_runs_on_keys_sharing_a_hash_tag()
    {
        await cluster.FlushAsync();
        var db = cluster.Connection.GetDatabase();
        RedisKey[] keys = ["fixture:{acme}:a", "fixture:{acme}:b"];
        Assert.Equal(cluster.Connection.HashSlot(keys[0]), cluster.Connection.HashSlot(keys[1]));

        var result = await db.ScriptEvaluateAsync(
            "local t = redis.call('TIME'); redis.call('SET', KEYS[1], t[1]); redis.call('SET', KEYS[2], t[1]); return redis.call('GET', KEYS[2])",
            keys);

        Assert.Equal((string?)await db.StringGetAsync(keys[0]), (string?)result);
    }
}
