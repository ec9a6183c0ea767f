using Gateway.Licensing.Tests.Infrastructure;

namespace Gateway.Tests.Infrastructure;

// xunit honours collection definitions only in the test assembly itself, so each test project that
// shares the fixtures of Gateway.TestSupport defines its collections under the same names.

/// <summary>Tests marked <c>[Collection("redis")]</c> share one <see cref="RedisServerFixture"/> and run one at a time.</summary>
[CollectionDefinition("redis")]
public sealed class RedisCollection : ICollectionFixture<RedisServerFixture>;

/// <summary>Tests marked <c>[Collection("redis-cluster")]</c> share one <see cref="RedisClusterFixture"/>.</summary>
[CollectionDefinition("redis-cluster")]
public sealed class RedisClusterCollection : ICollectionFixture<RedisClusterFixture>;
