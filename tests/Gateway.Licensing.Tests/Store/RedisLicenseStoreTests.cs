using Gateway.Licensing.Tests.Infrastructure;
using StackExchange.Redis;

namespace Gateway.Licensing.Tests.Store;

/// <summary>The licensing rules on a real redis-server.</summary>
[Collection("redis")]
public sealed class RedisLicenseStoreTests(RedisServerFixture redis) : LicenseStoreContractTests
{
    protected override IConnectionMultiplexer Connection => redis.Connection;
}
