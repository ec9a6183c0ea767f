using StackExchange.Redis;

namespace Gateway.FaultTests.Support;

/// <summary>
/// Reads a tenant's <see cref="StoreSnapshot"/> over and over in the background while a test runs, so a
/// test can assert an invariant held at every moment it looked, not only at the end.
/// </summary>
public sealed class StoreSampler : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private readonly List<string> _violations = [];
    private long _samples;
    private long _maxSessions;

    /// <param name="tenant">The tenant to read now (it may change between rounds); null pauses sampling.</param>
    public StoreSampler(IConnectionMultiplexer redis, Func<string?> tenant)
    {
        _loop = Task.Run(async () =>
        {
            while (!_stop.IsCancellationRequested)
            {
                if (tenant() is { } current)
                {
                    try
                    {
                        var s = await StoreSnapshot.ReadAsync(redis, current);
                        Interlocked.Increment(ref _samples);
                        if (s.Sessions > Interlocked.Read(ref _maxSessions)) Interlocked.Exchange(ref _maxSessions, s.Sessions);
                        if (!s.Consistent || s.Sessions > s.Cap || s.ActiveUsers > s.SeatLimit || (s.Model == "RegisteredUsers" && s.HoldersNotActive.Count > 0))
                            lock (_violations) _violations.Add($"{current}: {s}");
                    }
                    catch (Exception e) when (e is RedisException or TimeoutException)
                    {
                        // the store is down
                    }
                }
                await Task.Delay(2);
            }
        });
    }

    public long Samples => Interlocked.Read(ref _samples);

    /// <summary>The most sessions one tenant held in any sample.</summary>
    public long MaxSessions => Interlocked.Read(ref _maxSessions);

    public IReadOnlyList<string> Violations
    {
        get
        {
            lock (_violations) return _violations.ToArray();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _loop;
        _stop.Dispose();
    }
}
