using Gateway.Licensing.Tests.Infrastructure;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Support;

/// <summary>
/// A gateway of its own per test class: a private redis-server (so classes never share store state),
/// a loopback echo backend and the gateway configured by <see cref="Configure"/>. Tests of one class
/// share it, so each test uses its own tenant.
/// </summary>
public abstract class GatewayFixture : IAsyncLifetime
{
    public RedisServerFixture Redis { get; } = new();
    public LoopbackBackend Backend { get; } = new();
    public GatewayFactory Gateway { get; private set; } = null!;
    public HttpClient Client { get; private set; } = null!;

    protected abstract void Configure(GatewayFactory gateway);

    public async Task InitializeAsync()
    {
        await Redis.InitializeAsync();
        await Backend.InitializeAsync();
        // Generous command timeouts: the build machine is shared and busy; an outage still fails fast
        // (no backlog), so these do not slow the outage tests.
        Gateway = new GatewayFactory(Redis.ConnectionString + ",syncTimeout=5000,asyncTimeout=5000", Backend.BaseAddress);
        Configure(Gateway);
        Client = await Gateway.StartAsync();
    }

    public async Task DisposeAsync()
    {
        Client?.Dispose();
        if (Gateway is not null) await Gateway.DisposeAsync();
        await Backend.DisposeAsync();
        await Redis.DisposeAsync();
    }
}
