using System.Diagnostics;
using System.Net;
using System.Reflection;
using Gateway.Licensing.Sessions;
using Gateway.Licensing.Store;
using Gateway.Licensing.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;
using StackExchange.Redis;

namespace Gateway.Licensing.Tests.Sessions;

/// <summary>
/// A store failover may lose sessions and revocations the old primary had not passed on, so the signs of
/// one — a store connection that fails, a hash slot that moves — make <see cref="RevocationBus"/> trust no
/// remembered session until the store confirms it again. The bus runs on a real redis-server; the client's
/// events are raised by the test (a failover of a real cluster is in <c>Gateway.FaultTests/FailoverTests</c>).
/// </summary>
public sealed class FailoverDistrustTests : IAsyncLifetime
{
    private readonly RedisServerFixture _redis = new();

    public Task InitializeAsync() => _redis.InitializeAsync();

    public Task DisposeAsync() => _redis.DisposeAsync();

    public static TheoryData<string> Signs => ["interactive connection failed", "hash slot moved"];

    [Theory]
    [MemberData(nameof(Signs))]
    public async Task A_sign_of_failover_distrusts_every_cached_session_until_the_subscription_is_proven_again(string sign)
    {
        var connection = EventSource.Wrap(_redis.Connection);
        using var bus = new RevocationBus(new LocalSessionCache(), connection, TimeProvider.System, NullLogger<RevocationBus>.Instance);
        await bus.StartAsync(CancellationToken.None);
        try
        {
            await WaitForAsync(() => bus.IsTrusted, "the subscription to be proven");
            var before = bus.TrustedSince;

            var raisedAt = Stopwatch.GetTimestamp();
            var endPoint = new IPEndPoint(IPAddress.Loopback, _redis.Port);
            if (sign == "hash slot moved")
                EventSource.Raise(connection, nameof(IConnectionMultiplexer.HashSlotMoved), new HashSlotMovedEventArgs(null!, 42, endPoint, new IPEndPoint(IPAddress.Loopback, 1)));
            else
                EventSource.Raise(connection, nameof(IConnectionMultiplexer.ConnectionFailed), new ConnectionFailedEventArgs(null!, endPoint, ConnectionType.Interactive, ConnectionFailureType.SocketClosed, new IOException("killed"), "test"));

            // Trusted again only from a moment after the sign: what the store confirmed before counts for nothing.
            await WaitForAsync(() => bus.IsTrusted && bus.TrustedSince != before, $"{sign}: cached sessions distrusted, then the subscription proven again");
            Assert.True(bus.TrustedSince >= raisedAt, $"{sign}: trusted since {bus.TrustedSince}, the sign came at {raisedAt}");
        }
        finally
        {
            await bus.StopAsync(CancellationToken.None);
        }
    }

    private static async Task WaitForAsync(Func<bool> condition, string what)
    {
        var elapsed = Stopwatch.StartNew();
        while (!condition())
        {
            if (elapsed.Elapsed > TimeSpan.FromSeconds(10)) throw new TimeoutException($"Timed out waiting for {what}.");
            await Task.Delay(10);
        }
    }

    /// <summary>Forwards every call to a real multiplexer and remembers the event handlers, so a test can raise events.</summary>
    public class EventSource : DispatchProxy
    {
        private readonly Dictionary<string, Delegate?> _handlers = new(StringComparer.Ordinal);
        private IConnectionMultiplexer _inner = null!;

        public static IConnectionMultiplexer Wrap(IConnectionMultiplexer inner)
        {
            var proxy = Create<IConnectionMultiplexer, EventSource>();
            ((EventSource)(object)proxy)._inner = inner;
            return proxy;
        }

        public static void Raise<TArgs>(IConnectionMultiplexer proxy, string name, TArgs args)
        {
            var source = (EventSource)(object)proxy;
            lock (source._handlers)
            {
                (source._handlers.GetValueOrDefault(name) as EventHandler<TArgs>)?.Invoke(proxy, args);
            }
        }

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
        {
            ArgumentNullException.ThrowIfNull(targetMethod);
            if (targetMethod.Name.StartsWith("add_", StringComparison.Ordinal) || targetMethod.Name.StartsWith("remove_", StringComparison.Ordinal))
            {
                var name = targetMethod.Name[(targetMethod.Name.IndexOf('_') + 1)..];
                lock (_handlers)
                {
                    var current = _handlers.GetValueOrDefault(name);
                    _handlers[name] = targetMethod.Name[0] == 'a' ? Delegate.Combine(current, (Delegate)args![0]!) : Delegate.Remove(current, (Delegate)args![0]!);
                }
            }
            try
            {
                return targetMethod.Invoke(_inner, args);
            }
            catch (TargetInvocationException ex) when (ex.InnerException is not null)
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(ex.InnerException);
                throw;
            }
        }
    }
}
