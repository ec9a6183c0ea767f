using Gateway.FaultTests.Infrastructure;
using Gateway.Licensing.Tests.Infrastructure;
using Gateway.Tests.Infrastructure;

namespace Gateway.FaultTests.Support;

/// <summary>
/// Several gateway processes on one redis-server and one loopback backend: the product's own deployment
/// ("several replicas share one Redis"). Tenants are created through the API, one per test or round,
/// so tests that share a set never see each other's state.
/// </summary>
public class ReplicaSet : IAsyncLifetime
{
    private readonly int _count;

    public ReplicaSet() : this(3)
    {
    }

    protected ReplicaSet(int count) => _count = count;

    public RedisServerFixture Redis { get; private set; } = null!;
    public LoopbackBackend Backend { get; } = new();
    public GatewayProcess[] Replicas { get; private set; } = [];
    public Seats Seats { get; } = new();
    public Operator Operator { get; private set; } = null!;

    /// <summary>Settings on top of the defaults (Redis, test tokens, the <c>/api</c> route).</summary>
    protected virtual void Configure(GatewaySettings settings)
    {
    }

    /// <summary>The Redis to use; plain (no persistence) unless overridden.</summary>
    protected virtual async Task<RedisServerFixture> StartRedisAsync()
    {
        var redis = new RedisServerFixture();
        await redis.InitializeAsync();
        return redis;
    }

    public async Task InitializeAsync()
    {
        Redis = await StartRedisAsync();
        await Backend.InitializeAsync();
        var settings = new GatewaySettings(Redis.ConnectionString, Backend.BaseAddress);
        Configure(settings);
        Replicas = await GatewayProcess.StartManyAsync(_count, settings);
        Operator = new Operator(Seats.Http);
    }

    public async Task DisposeAsync()
    {
        foreach (var replica in Replicas) await replica.DisposeAsync();
        Seats.Dispose();
        await Backend.DisposeAsync();
        if (Redis is not null) await Redis.DisposeAsync();
    }
}
