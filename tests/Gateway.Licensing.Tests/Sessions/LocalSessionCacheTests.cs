using Gateway.Licensing.Sessions;

namespace Gateway.Licensing.Tests.Sessions;

public sealed class LocalSessionCacheTests
{
    [Fact]
    public void Count_follows_confirmations_and_removals()
    {
        var cache = new LocalSessionCache();
        cache.Confirmed("t", "a", sentAt: 100);
        cache.Confirmed("t", "b", sentAt: 100);
        cache.Confirmed("t", "a", sentAt: 200); // a refresh, not a second entry
        Assert.Equal(2, cache.Count);
        Assert.True(cache.TryGet("a", out var a));
        Assert.Equal(200, a.ConfirmedAt);

        Assert.True(cache.Forget("a"));
        Assert.False(cache.Forget("a"));
        Assert.Equal(1, cache.Count);

        cache.Confirmed("t", "c", sentAt: 1_000);
        Assert.Equal(1, cache.RemoveIdle(now: 1_050, maxIdle: 500)); // b, idle since 100
        Assert.Equal(1, cache.Count);
        Assert.False(cache.TryGet("b", out _));
        Assert.True(cache.TryGet("c", out _));
    }

    [Fact]
    public void A_full_cache_refreshes_known_sessions_and_skips_new_ones()
    {
        var cache = new LocalSessionCache(capacity: 2);
        cache.Confirmed("t", "a", sentAt: 1);
        cache.Confirmed("t", "b", sentAt: 1);

        cache.Confirmed("t", "c", sentAt: 2);
        cache.Confirmed("t", "a", sentAt: 3);

        Assert.Equal(2, cache.Count);
        Assert.False(cache.TryGet("c", out _));
        Assert.True(cache.TryGet("a", out var a));
        Assert.Equal(3, a.LastRequestAt);
    }

    [Fact]
    public void A_reply_sent_before_the_session_ended_does_not_bring_it_back()
    {
        var cache = new LocalSessionCache();
        cache.Confirmed("t", "a", sentAt: 50);
        cache.Ended("a", now: 100);
        Assert.False(cache.TryGet("a", out _));

        // A refresh sent at 90 was answered before the end at 100 was applied, but read after it.
        Assert.Null(cache.Confirmed("t", "a", sentAt: 90));
        Assert.False(cache.TryGet("a", out _));
        Assert.Null(cache.Confirmed("t", "a", sentAt: 100));

        // A call sent after the end saw the store after it: the session it confirms is a new one.
        Assert.NotNull(cache.Confirmed("t", "a", sentAt: 101, startedMs: 7));
        Assert.True(cache.TryGet("a", out var entry));
        Assert.Equal(7, entry.StartedMs);

        cache.RemoveTombstones(before: 200);
        Assert.Equal(0, cache.TombstoneCount);
    }

    [Fact]
    public void A_later_start_of_the_same_session_ends_the_entry_of_the_earlier_one()
    {
        var cache = new LocalSessionCache();
        var first = cache.Confirmed("t", "a", sentAt: 1, startedMs: 1_000)!;
        Assert.Same(first, cache.Confirmed("t", "a", sentAt: 2, startedMs: 1_000));
        Assert.False(first.IsEnded);

        var second = cache.Confirmed("t", "a", sentAt: 3, startedMs: 2_000)!;
        Assert.NotSame(first, second);
        Assert.True(first.IsEnded);
        Assert.False(second.IsEnded);
        Assert.Equal(1, cache.Count);
    }

    [Fact]
    public void Forgetting_an_entry_marks_it_ended_and_wakes_the_tracker_and_a_stale_copy_is_left_alone()
    {
        var cache = new LocalSessionCache();
        var old = cache.Confirmed("t", "a", sentAt: 1, startedMs: 1)!;
        Assert.True(cache.Forget("a"));
        Assert.True(old.IsEnded);
        Assert.Equal(1, cache.EndedSignal.CurrentCount);

        var current = cache.Confirmed("t", "a", sentAt: 2, startedMs: 2)!;
        Assert.False(cache.Forget("a", old)); // e.g. a touch of the old entry finds it gone
        Assert.True(cache.TryGet("a", out var held));
        Assert.Same(current, held);
    }

    [Fact]
    public void A_service_sessions_deadline_only_moves_earlier()
    {
        var cache = new LocalSessionCache();
        var entry = cache.Confirmed("t", "svc", sentAt: 1, startedMs: 5, deadline: 1_000)!;
        cache.Confirmed("t", "svc", sentAt: 2, startedMs: 5, deadline: 900);
        cache.Confirmed("t", "svc", sentAt: 3, startedMs: 5, deadline: 1_100);
        Assert.Equal(900, entry.Deadline);
        Assert.Equal(long.MaxValue, cache.Confirmed("t", "user", sentAt: 1)!.Deadline);
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
                else cache.Confirmed("t", id, sentAt: i);
            }
        })));

        var actual = Enumerable.Range(0, 1_000).Count(i => cache.TryGet($"s{i}", out _));
        Assert.Equal(actual, cache.Count);
    }
}
