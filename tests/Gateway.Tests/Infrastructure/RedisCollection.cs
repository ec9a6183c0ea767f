using Gateway.Licensing.Tests.Infrastructure;

namespace Gateway.Tests.Infrastructure;

// xunit only honours collection definitions in the test assembly itself, so the fixtures from
// Gateway.Licensing.Tests need their own definitions here under the same names.

/// <summary>Tests marked <c>[Collection("redis")]</c> share one <see cref="RedisServerFixture"/> and run one at a time.</summary>
[CollectionDefinition("redis")]
public sealed class RedisCollection : ICollectionFixture<RedisServerFixture>;

/// <summary>Tests marked <c>[Collection("redis-cluster")]</c> share one <see cref="RedisClusterFixture"/>.</summary>
[CollectionDefinition("redis-cluster")]
public sealed class RedisClusterCollection : ICollectionFixture<RedisClusterFixture>;
