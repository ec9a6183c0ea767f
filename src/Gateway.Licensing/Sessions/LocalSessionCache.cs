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

    public LocalSessionCache(int capacity = 500_000) => _capacity = capacity;

    public int Count => _entries.Count;

    public bool TryGet(string sessionId, out Entry entry) => _entries.TryGetValue(sessionId, out entry!);

    /// <summary>Remembers a session the store just confirmed; skipped when the cache is full.</summary>
    public void Confirmed(string tenant, string sessionId, long now)
    {
        if (_entries.TryGetValue(sessionId, out var entry))
        {
            entry.ConfirmedAt = now;
            entry.LastRequestAt = now;
            return;
        }
        if (_entries.Count >= _capacity) return;
        _entries[sessionId] = new Entry(tenant) { ConfirmedAt = now, LastRequestAt = now };
    }

    public bool Forget(string sessionId) => _entries.TryRemove(sessionId, out _);

    /// <summary>Drops entries not used for <paramref name="maxIdle"/> ticks.</summary>
    public int RemoveIdle(long now, long maxIdle)
    {
        var removed = 0;
        foreach (var (id, entry) in _entries)
        {
            if (now - Volatile.Read(ref entry.LastRequestAt) > maxIdle && _entries.TryRemove(id, out _)) removed++;
        }
        return removed;
    }

    public void Clear() => _entries.Clear();

    public sealed class Entry(string tenant)
    {
        public string Tenant { get; } = tenant;

        /// <summary>When the store last confirmed the session (admission or touch).</summary>
        public long ConfirmedAt;

        /// <summary>When this replica last forwarded a request of the session.</summary>
        public long LastRequestAt;

        /// <summary>1 while a touch of the session is queued, so it is queued once.</summary>
        public int TouchQueued;
    }
}
