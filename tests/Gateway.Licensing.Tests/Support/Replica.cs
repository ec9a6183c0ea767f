using Gateway.Licensing.Options;
using Gateway.Licensing.Sessions;
using Gateway.Licensing.Store;
using Gateway.Licensing.Telemetry;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using StackExchange.Redis;

namespace Gateway.Licensing.Tests.Support;

/// <summary>
/// One gateway replica's engine, built by hand: its own connection, local cache, store, touches,
/// admitter, revocation subscription, use tracker and meters. Local time is faked; the store's clock is
/// real. Background loops do not run (tests flush touches and run tracker passes themselves), except
/// the revocation bus, whose heartbeats prove the subscription.
/// </summary>
internal sealed class Replica : IAsyncDisposable
{
    public required ConnectionMultiplexer Connection { get; init; }
    public required FakeTimeProvider Time { get; init; }
    public required LocalSessionCache Cache { get; init; }
    public required LicenseStore Store { get; init; }
    public required TouchBatcher Touches { get; init; }
    public required SessionAdmitter Admitter { get; init; }
    public required RevocationBus Bus { get; init; }
    public required SessionUseTracker Uses { get; init; }
    public required TestMeterFactory Meters { get; init; }
    public required TenantGauges Gauges { get; init; }
    public required LicensingOptions Options { get; init; }

    public static async Task<Replica> StartAsync(string connectionString, LicensingOptions options, int expectedSubscribers)
    {
        var connection = await ConnectionMultiplexer.ConnectAsync(connectionString);
        var monitor = new StaticOptionsMonitor<LicensingOptions>(options);
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var cache = new LocalSessionCache();
        var health = new StoreHealth();
        var bus = new RevocationBus(cache, connection, time, NullLogger<RevocationBus>.Instance);
        var meters = new TestMeterFactory();
        var metrics = new LicensingMetrics(meters);
        var store = new LicenseStore(connection, monitor, [bus, metrics]);
        var touches = new TouchBatcher(store, cache, health, time, monitor, NullLogger<TouchBatcher>.Instance);
        var gauges = new TenantGauges(store, meters, monitor, time, NullLogger<TenantGauges>.Instance);
        var admitter = new SessionAdmitter(store, cache, touches, bus, health, monitor, time, metrics,
            new RejectionBurstLog(time, NullLogger<RejectionBurstLog>.Instance), NullLogger<SessionAdmitter>.Instance);
        var uses = new SessionUseTracker(cache, touches, bus, health, monitor, time, NullLogger<SessionUseTracker>.Instance);
        await bus.StartAsync(CancellationToken.None);
        // Subscribing happens in the background; wait until the channel is live and proven.
        var deadline = DateTime.UtcNow.AddSeconds(5);
        while (DateTime.UtcNow < deadline && (!bus.IsTrusted || await connection.GetDatabase().PublishAsync(TenantKeys.RevocationChannel, "") < expectedSubscribers))
        {
            await Task.Delay(10);
        }
        return new Replica { Connection = connection, Time = time, Cache = cache, Store = store, Touches = touches, Admitter = admitter, Bus = bus, Uses = uses, Meters = meters, Options = options, Gauges = gauges };
    }

    public async ValueTask DisposeAsync()
    {
        await Bus.StopAsync(CancellationToken.None);
        Bus.Dispose();
        await Connection.DisposeAsync();
        Meters.Dispose();
    }
}
