using System.Collections.Concurrent;

namespace Gateway.Licensing.Sessions;

/// <summary>
/// This replica's memory of sessions the store admitted, so a request of an admitted session is
/// forwarded without a store round trip. Bounded in size; entries are trusted only while recently
/// confirmed by the store (see <see cref="SessionAdmitter"/>). Times are local clock ticks, used
/// only for this cache and never for a licensing decision.
/// </summary>
public sealed class LocalSessionCache
{
    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private readonly int _capacity;

    // Kept alongside the dictionary: ConcurrentDictionary.Count takes every lock of the dictionary,
    // which on each admission made concurrent admissions wait for each other.
    private int _count;

    public LocalSessionCache(int capacity = 500_000) => _capacity = capacity;

    public int Count => Volatile.Read(ref _count);

    public bool TryGet(string sessionId, out Entry entry) => _entries.TryGetValue(sessionId, out entry!);

    /// <summary>Remembers a session the store just confirmed; skipped when the cache is full.</summary>
    public void Confirmed(string tenant, string sessionId, long now)
    {
        if (_entries.TryGetValue(sessionId, out var entry) || Count >= _capacity)
        {
            if (entry is not null) Refresh(entry, now);
            return;
        }
        if (_entries.TryAdd(sessionId, new Entry(tenant) { ConfirmedAt = now, LastRequestAt = now })) Interlocked.Increment(ref _count);
        else if (_entries.TryGetValue(sessionId, out entry)) Refresh(entry, now);
    }

    private static void Refresh(Entry entry, long now)
    {
        Volatile.Write(ref entry.ConfirmedAt, now);
        Volatile.Write(ref entry.LastRequestAt, now);
    }

    public bool Forget(string sessionId)
    {
        if (!_entries.TryRemove(sessionId, out _)) return false;
        Interlocked.Decrement(ref _count);
        return true;
    }

    /// <summary>Drops entries not used for <paramref name="maxIdle"/> ticks.</summary>
    public int RemoveIdle(long now, long maxIdle)
    {
        var removed = 0;
        foreach (var (id, entry) in _entries)
        {
            if (now - Volatile.Read(ref entry.LastRequestAt) > maxIdle && Forget(id)) removed++;
        }
        return removed;
    }

    public sealed class Entry(string tenant)
    {
        public string Tenant { get; } = tenant;

        /// <summary>When the store last confirmed the session (admission or touch).</summary>
        public long ConfirmedAt;

        /// <summary>When this replica last forwarded a request of the session.</summary>
        public long LastRequestAt;

        /// <summary>1 while a touch of the session is queued, so it is queued once.</summary>
        public int TouchQueued;

        /// <summary>Origin (client address and User-Agent, hashed) of the use that put the session here; 0 = unknown.</summary>
        public long Origin;

        /// <summary>1 once this replica saw the session used from a second origin (the sharing signal).</summary>
        public int SecondOriginSeen;
    }
}
