using Gateway.Licensing.Sessions;

namespace Gateway.Licensing.Tests.Sessions;

public sealed class LocalSessionCacheTests
{
    [Fact]
    public void Count_follows_confirmations_and_removals()
    {
        var cache = new LocalSessionCache();
        cache.Confirmed("t", "a", now: 100);
        cache.Confirmed("t", "b", now: 100);
        cache.Confirmed("t", "a", now: 200); // a refresh, not a second entry
        Assert.Equal(2, cache.Count);
        Assert.True(cache.TryGet("a", out var a));
        Assert.Equal(200, a.ConfirmedAt);

        Assert.True(cache.Forget("a"));
        Assert.False(cache.Forget("a"));
        Assert.Equal(1, cache.Count);

        cache.Confirmed("t", "c", now: 1_000);
        Assert.Equal(1, cache.RemoveIdle(now: 1_050, maxIdle: 500)); // b, idle since 100
        Assert.Equal(1, cache.Count);
        Assert.False(cache.TryGet("b", out _));
        Assert.True(cache.TryGet("c", out _));
    }

    [Fact]
    public void A_full_cache_refreshes_known_sessions_and_skips_new_ones()
    {
        var cache = new LocalSessionCache(capacity: 2);
        cache.Confirmed("t", "a", now: 1);
        cache.Confirmed("t", "b", now: 1);

        cache.Confirmed("t", "c", now: 2);
        cache.Confirmed("t", "a", now: 3);

        Assert.Equal(2, cache.Count);
        Assert.False(cache.TryGet("c", out _));
        Assert.True(cache.TryGet("a", out var a));
        Assert.Equal(3, a.LastRequestAt);
    }

    [Fact]
    public async Task Concurrent_confirmations_and_removals_keep_the_count_exact()
    {
        var cache = new LocalSessionCache();
        await Task.WhenAll(Enumerable.Range(0, 8).Select(worker => Task.Run(() =>
        {
            for (var i = 0; i < 5_000; i++)
            {
                var id = $"s{i % 1_000}";
                if ((i + worker) % 3 == 0) cache.Forget(id);
                else cache.Confirmed("t", id, now: i);
            }
        })));

        var actual = Enumerable.Range(0, 1_000).Count(i => cache.TryGet($"s{i}", out _));
        Assert.Equal(actual, cache.Count);
    }
}
