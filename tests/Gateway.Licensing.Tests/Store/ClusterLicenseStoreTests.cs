using Gateway.Licensing.Tests.Infrastructure;
using StackExchange.Redis;

namespace Gateway.Licensing.Tests.Store;

/// <summary>
/// The licensing rules on a 3-node Redis Cluster: every script must touch only its tenant's
/// hash-tagged keys, so the same suite passes unchanged; tenants of different tests land in
/// different slots.
/// </summary>
[Collection("redis-cluster")]
public sealed class ClusterLicenseStoreTests(RedisClusterFixture cluster) : LicenseStoreContractTests
{
    protected override IConnectionMultiplexer Connection => cluster.Connection;

    [Fact]
    public void A_tenants_keys_share_one_slot_and_tenants_spread_over_the_nodes()
    {
        var nodes = new HashSet<string>();
        for (var i = 0; i < 30; i++)
        {
            var keys = Gateway.Licensing.Store.TenantKeys.For($"tenant-{i}");
            var slots = keys.Select(k => cluster.Connection.HashSlot(k)).Distinct().ToArray();
            Assert.Single(slots);
            nodes.Add(cluster.Connection.GetDatabase().IdentifyEndpoint(keys[0])!.ToString()!);
        }
        Assert.Equal(3, nodes.Count);
    }
}
