using Gateway.Licensing.Tests.Infrastructure;

namespace Gateway.FaultTests.Infrastructure;

/// <summary>A private redis-server for tests that kill and restart it and need its data back afterwards.</summary>
public static class AofRedis
{
    /// <summary>The repository's <c>config/redis.conf</c>, copied next to the test assembly by the project file.</summary>
    public static string ShippedConfig => Path.Combine(AppContext.BaseDirectory, "redis.conf");

    /// <summary>
    /// Starts Redis with the shipped <c>config/redis.conf</c> (AOF on, no eviction), with
    /// <c>appendfsync always</c> instead of its <c>everysec</c>: with <c>everysec</c> Redis may postpone
    /// the AOF write by up to 2 s while a background fsync is slow (a busy test machine), and a SIGKILL
    /// in that window would lose acknowledged writes. Port, bind address and directory are the fixture's.
    /// </summary>
    public static async Task<RedisServerFixture> StartAsync()
    {
        var redis = new RedisServerFixture { ConfigFile = ShippedConfig, Arguments = ["--appendfsync", "always"] };
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
