using Gateway.Licensing.Sessions;
using Gateway.Licensing.Store;
using Gateway.Licensing.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using StackExchange.Redis;

namespace Gateway.Licensing.Tests.Store;

/// <summary>
/// A host may stop the revocation bus after its container disposed it: a test host's own shutdown races
/// the test's (<c>app.Run()</c> stops and disposes the host while <c>WebApplicationFactory</c> is stopping
/// it too). Stopping then must not throw: there is nothing left to stop.
/// </summary>
[Collection("redis")]
public sealed class RevocationBusLifetimeTests(RedisServerFixture redis)
{
    private static async Task<RevocationBus> StartedBus(IConnectionMultiplexer connection)
    {
        var bus = new RevocationBus(new LocalSessionCache(), connection, new FakeTimeProvider(DateTimeOffset.UtcNow),
            NullLogger<RevocationBus>.Instance);
        await bus.StartAsync(CancellationToken.None);
        return bus;
    }

    [Fact]
    public async Task Stopping_after_disposal_completes_quietly()
    {
        var connection = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString);
        var bus = await StartedBus(connection);

        bus.Dispose();
        await connection.DisposeAsync();

        await bus.StopAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task Disposal_alone_stops_the_subscription_loop()
    {
        await using var connection = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString);
        var bus = await StartedBus(connection);

        bus.Dispose();

        // Stop after dispose returns promptly: the loop had already ended with the disposal.
        await bus.StopAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));
        bus.Dispose();
    }
}
