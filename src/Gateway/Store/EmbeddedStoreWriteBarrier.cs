using Gateway.Licensing.Store;
using StackExchange.Redis;

namespace Gateway.Store;

/// <summary>
/// Makes each administrative write durable on the embedded store before it is acknowledged. The
/// embedded store answers a write before its append-only log is committed; a crash in between lost
/// acknowledged activations (once, a whole plan). COMMITAOF waits for the commit of everything logged
/// so far, so sessions admitted before the write are kept too. Registered only when the gateway runs
/// on the embedded store (<see cref="StoreServiceCollectionExtensions"/>); on Redis, durability is
/// Redis's persistence and replicas (docs/operations.md).
/// </summary>
internal sealed class EmbeddedStoreWriteBarrier(IConnectionMultiplexer connection) : IStoreWriteBarrier
{
    public Task AfterWriteAsync() => connection.GetDatabase().ExecuteAsync("COMMITAOF");
}
