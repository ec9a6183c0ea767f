using Gateway.Licensing.Tests.Infrastructure;

namespace Gateway.FaultTests.Infrastructure;

/// <summary>A private redis-server for tests that kill and restart it and need its data back afterwards.</summary>
public static class AofRedis
{
    /// <summary>The repository's <c>config/redis.conf</c>, copied next to the test assembly by the project file.</summary>
    public static string ShippedConfig => Path.Combine(AppContext.BaseDirectory, "redis.conf");

    /// <summary>
    /// Starts Redis with the shipped <c>config/redis.conf</c> unchanged (AOF with
    /// <c>appendfsync always</c>, no eviction). Port, bind address and directory are the fixture's.
    /// </summary>
    public static async Task<RedisServerFixture> StartAsync()
    {
        var redis = new RedisServerFixture { ConfigFile = ShippedConfig };
        try
        {
            await redis.InitializeAsync();
            return redis;
        }
        catch
        {
            await redis.DisposeAsync();
            throw;
        }
    }
}
