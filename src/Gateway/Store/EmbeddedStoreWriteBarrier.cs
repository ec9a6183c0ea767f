using Gateway.Licensing.Store;
using StackExchange.Redis;

namespace Gateway.Store;

/// <summary>
/// Makes each administrative write durable on the embedded store before it is acknowledged. The
/// embedded store answers a write before its append-only file is committed; a crash in between lost
/// acknowledged activations (once, a whole plan). COMMITAOF waits for the commit of everything logged
/// so far, so sessions admitted before the write are kept too. On Redis it does nothing: durability
/// there is Redis's persistence and replica settings (docs/operations.md).
/// </summary>
internal sealed class EmbeddedStoreWriteBarrier(IConfiguration configuration, IServiceProvider services) : IStoreWriteBarrier
{
    private readonly bool _embedded = string.IsNullOrWhiteSpace(configuration.GetConnectionString(StoreConnector.ConnectionStringName));
    private IConnectionMultiplexer? _connection;

    public Task AfterWriteAsync(string tenant)
    {
        if (!_embedded) return Task.CompletedTask;
        _connection ??= services.GetRequiredService<IConnectionMultiplexer>();
        return _connection.GetDatabase().ExecuteAsync("COMMITAOF");
    }
}
