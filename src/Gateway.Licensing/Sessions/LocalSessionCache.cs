using System.Collections.Concurrent;
using Gateway.Licensing.Results;

namespace Gateway.Licensing.Sessions;

/// <summary>
/// This replica's memory of sessions the store admitted, so a request of an admitted session is
/// forwarded without a store round trip. Bounded in size; entries are trusted only while recently
/// confirmed by the store (see <see cref="SessionAdmitter"/>). Times are local clock ticks, used
/// only for this cache and never for a licensing decision.
/// </summary>
/// <remarks>
/// A session that ended (announced by any replica, or ended by this one) leaves a tombstone for
/// <see cref="TombstoneLifetime"/>: a store reply that was already in flight when the end was applied
/// may describe the session as it was before, and must not put it back (<see cref="Confirmed"/>).
/// Forgetting an entry marks it ended, which closes the requests and connections still open on it
/// (<see cref="SessionUseTracker"/>).
/// </remarks>
internal sealed class LocalSessionCache
{
    /// <summary>
    /// How long an ended session's tombstone is kept: longer than any store call may take (their
    /// timeouts are seconds), so every reply sent before the end has arrived by then.
    /// </summary>
    public static readonly TimeSpan TombstoneLifetime = TimeSpan.FromSeconds(30);

    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, long> _tombstones = new(StringComparer.Ordinal);
    private readonly int _capacity;

    // Kept alongside the dictionaries: ConcurrentDictionary.Count takes every lock of the dictionary,
    // and so does IsEmpty when it is empty (the tombstones' usual state); on each admission that made
    // concurrent admissions wait for each other.
    private int _count;
    private int _tombstoneCount;

    public LocalSessionCache(int capacity = 500_000) => _capacity = capacity;

    public int Count => Volatile.Read(ref _count);

    /// <summary>Released whenever an entry ends, so the tracker closes what is still open on it at once.</summary>
    internal SemaphoreSlim EndedSignal { get; } = new(0, 1);

    public bool TryGet(string sessionId, out Entry entry) => _entries.TryGetValue(sessionId, out entry!);

    /// <summary>
    /// Remembers a session the store just confirmed by a call sent at <paramref name="sentAt"/>, and
    /// returns its entry. Returns null (and remembers nothing) when the session ended on this replica's
    /// knowledge after the call was sent (its reply may predate the end), or when the cache is full.
    /// </summary>
    /// <param name="tenant">The session's tenant.</param>
    /// <param name="sessionId">The session id.</param>
    /// <param name="sentAt">Local tick at which the confirming call was sent.</param>
    /// <param name="startedMs">The session's start by the store's clock; an entry of an earlier start is over.</param>
    /// <param name="deadline">Local tick before which a service session must end (conservative); else <see cref="long.MaxValue"/>.</param>
    public Entry? Confirmed(string tenant, string sessionId, long sentAt, long startedMs = 0, long deadline = long.MaxValue)
    {
        if (EndedSince(sessionId, sentAt)) return null;
        while (true)
        {
            if (_entries.TryGetValue(sessionId, out var entry))
            {
                if (entry.StartedMs == startedMs)
                {
                    Refresh(entry, sentAt, deadline);
                    return entry;
                }
                // The session this entry knew ended and started again: what is open on the old one goes.
                Forget(sessionId, entry);
                continue;
            }
            if (Count >= _capacity) return null;
            entry = new Entry(tenant, sessionId) { ConfirmedAt = sentAt, LastRequestAt = sentAt, StartedMs = startedMs, Deadline = deadline };
            if (!_entries.TryAdd(sessionId, entry)) continue;
            Interlocked.Increment(ref _count);
            // An end applied between the check above and the add saw no entry to forget: look again.
            if (EndedSince(sessionId, sentAt))
            {
                Forget(sessionId, entry);
                return null;
            }
            return entry;
        }
    }

    private bool EndedSince(string sessionId, long sentAt) =>
        Volatile.Read(ref _tombstoneCount) > 0 && _tombstones.TryGetValue(sessionId, out var endedAt) && endedAt >= sentAt;

    private static void Refresh(Entry entry, long sentAt, long deadline)
    {
        // Concurrent confirmations may complete out of order; keep the latest.
        if (sentAt > Volatile.Read(ref entry.ConfirmedAt)) Volatile.Write(ref entry.ConfirmedAt, sentAt);
        if (sentAt > Volatile.Read(ref entry.LastRequestAt)) Volatile.Write(ref entry.LastRequestAt, sentAt);
        if (deadline < Volatile.Read(ref entry.Deadline)) Volatile.Write(ref entry.Deadline, deadline);
    }

    /// <summary>
    /// Applies the end of a session (announced, or done by this replica) at local tick <paramref name="now"/>:
    /// forgets it and leaves a tombstone, so a store reply sent before now cannot bring it back.
    /// </summary>
    public void Ended(string sessionId, long now)
    {
        // Counted before it is visible: a reader that sees the tombstone also sees the count.
        Interlocked.Increment(ref _tombstoneCount);
        var added = false;
        _tombstones.AddOrUpdate(sessionId, _ => { added = true; return now; }, (_, old) => { added = false; return Math.Max(old, now); });
        if (!added) Interlocked.Decrement(ref _tombstoneCount);
        Forget(sessionId);
    }

    /// <summary>Forgets the session, whichever entry holds it. Returns false when there was none.</summary>
    public bool Forget(string sessionId)
    {
        if (!_entries.TryRemove(sessionId, out var entry)) return false;
        OnRemoved(entry);
        return true;
    }

    /// <summary>Forgets <paramref name="entry"/> if it is still the one held for <paramref name="sessionId"/>.</summary>
    public bool Forget(string sessionId, Entry entry)
    {
        if (!_entries.TryRemove(new KeyValuePair<string, Entry>(sessionId, entry))) return false;
        OnRemoved(entry);
        return true;
    }

    private void OnRemoved(Entry entry)
    {
        Interlocked.Decrement(ref _count);
        // A full fence: a request that registers a use on the entry after this either is seen by the
        // tracker's next pass or sees the entry ended itself (SessionUseTracker.Opened).
        Interlocked.Exchange(ref entry.EndedFlag, 1);
        if (EndedSignal.CurrentCount == 0)
        {
            try
            {
                EndedSignal.Release();
            }
            catch (SemaphoreFullException)
            {
                // released by another thread meanwhile: the tracker wakes either way
            }
        }
    }

    /// <summary>Drops entries not used for <paramref name="maxIdle"/> ticks.</summary>
    public int RemoveIdle(long now, long maxIdle)
    {
        var removed = 0;
        foreach (var (id, entry) in _entries)
        {
            if (now - Volatile.Read(ref entry.LastRequestAt) > maxIdle && Forget(id, entry)) removed++;
        }
        return removed;
    }

    /// <summary>Drops tombstones of sessions that ended before local tick <paramref name="before"/>.</summary>
    public void RemoveTombstones(long before)
    {
        if (Volatile.Read(ref _tombstoneCount) == 0) return;
        foreach (var (id, endedAt) in _tombstones)
        {
            if (endedAt < before && _tombstones.TryRemove(new KeyValuePair<string, long>(id, endedAt))) Interlocked.Decrement(ref _tombstoneCount);
        }
    }

    internal int TombstoneCount => Volatile.Read(ref _tombstoneCount);

    public sealed class Entry(string tenant, string sessionId)
    {
        public string Tenant { get; } = tenant;

        public string SessionId { get; } = sessionId;

        /// <summary>When the store last confirmed the session: when the confirming call (admission or touch) was sent.</summary>
        public long ConfirmedAt;

        /// <summary>When this replica last forwarded a request of the session, or last saw one of its requests or connections open or close.</summary>
        public long LastRequestAt;

        /// <summary>1 while a touch of the session is queued or in flight, so it is queued once.</summary>
        public int TouchQueued;

        /// <summary>Origin (client address and User-Agent, hashed) of the use that put the session here; 0 = unknown.</summary>
        public long Origin;

        /// <summary>1 once this replica saw the session used from a second origin (the sharing signal).</summary>
        public int SecondOriginSeen;

        /// <summary>When the session started by the store's clock (ms); tells it from a later session with the same id.</summary>
        public long StartedMs { get; init; }

        /// <summary>Local tick at which a service session's lifetime is over (never later than the store's deadline); else <see cref="long.MaxValue"/>.</summary>
        public long Deadline = long.MaxValue;

        /// <summary>0, or 1 + the <see cref="AdmissionOutcome"/> enforcement would have decided when the session started in shadow mode.</summary>
        private int _shadow;

        /// <summary>What enforcement would have decided when the session started in shadow mode; null when nothing. As of the store's last admission.</summary>
        public AdmissionOutcome? ShadowOf
        {
            get
            {
                var value = Volatile.Read(ref _shadow);
                return value == 0 ? null : (AdmissionOutcome)(value - 1);
            }
            set => Volatile.Write(ref _shadow, value is { } outcome ? (int)outcome + 1 : 0);
        }

        internal int EndedFlag;

        /// <summary>True once the entry was forgotten: the session ended, or this replica stopped vouching for it.</summary>
        public bool IsEnded => Volatile.Read(ref EndedFlag) != 0;
    }
}
