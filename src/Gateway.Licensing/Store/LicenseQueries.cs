using System.Globalization;
using System.Text.Json;
using Gateway.Licensing.Identity;
using Gateway.Licensing.Options;
using Gateway.Licensing.Scripts;
using Gateway.Licensing.Results;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Gateway.Licensing.Store;

/// <summary>
/// The read side of the management API: pages of users and sessions, the audit trail and the usage
/// ledger. Nothing here writes a key or takes part in admission; reads that must be consistent in
/// themselves (a session's <c>borrowed</c> flag, a user's live session count) are one read-only Lua
/// script each, under the same hash-tagged keys as the engine.
/// </summary>
/// <remarks>
/// Paging:
/// <list type="bullet">
/// <item>Users are listed in ordinal (byte) order of their ids with <c>ZRANGEBYLEX</c> from the
/// cursor (the last id of the previous page): O(log N + page) per page, never a scan of the whole
/// tenant. Each user present for the whole walk is listed exactly once; users registered during the
/// walk appear if their id sorts after the cursor, users forgotten meanwhile (never active, past the
/// retention) may not. With a filter
/// (<c>active</c>) one page examines at most <see cref="FilteredScanBudget"/> users, so a page may be
/// shorter than asked (even empty) while a next cursor is still returned.</item>
/// <item>Sessions are listed in ordinal order of their ids (ids are hashes, so this order is stable
/// and unrelated to time); the cursor is the last id of the previous page. A session live for the
/// whole walk is listed exactly once; sessions started meanwhile appear if their id sorts after the
/// cursor; ended ones disappear. Choosing a page reads the tenant's session ids (HKEYS, at most the
/// tenant's cap) and sorts them on the client, so the store's single thread does no sorting.</item>
/// <item>Audit entries are listed newest first; the cursor is (time, number of entries already
/// returned at exactly that time), so entries appended while paging do not shift later pages.</item>
/// </list>
/// </remarks>
public sealed class LicenseQueries
{
    /// <summary>Largest page any list returns.</summary>
    public const int MaxPageSize = 1000;

    /// <summary>How many users one filtered page examines at most.</summary>
    internal const int FilteredScanBudget = 5000;

    private const long MillisPerDay = 86_400_000;

    private readonly IConnectionMultiplexer _connection;
    private readonly IOptionsMonitor<LicensingOptions> _options;

    /// <summary>Reads through <paramref name="connection"/>, the shared connection to the store.</summary>
    /// <param name="connection">The connection to the store (Redis, Redis Cluster or the embedded store).</param>
    /// <param name="options">The licensing options.</param>
    public LicenseQueries(IConnectionMultiplexer connection, IOptionsMonitor<LicensingOptions> options)
    {
        _connection = connection;
        _options = options;
    }

    private IDatabase Db => _connection.GetDatabase();

    /// <summary>One page of the tenant's users after <paramref name="after"/> (exclusive; null = from the start).</summary>
    public async Task<UserPage> ListUsersAsync(string tenant, bool? active, string? after, int limit)
    {
        CheckLimit(limit);
        var budget = active is null ? limit : Math.Max(limit, FilteredScanBudget);
        var call = ReadUsersScript.Call(tenant, Context, new ReadUsersScript.Arguments(after, limit, active, budget));
        return ReadUsersScript.Parse(await RunAsync(call).ConfigureAwait(false));
    }

    /// <summary>
    /// One page of the tenant's live sessions (or of one user's, with <paramref name="userId"/>) whose
    /// ids sort after <paramref name="after"/> (exclusive; null = from the start).
    /// </summary>
    public async Task<SessionPage> ListSessionsAsync(string tenant, string? userId, string? after, int limit)
    {
        CheckLimit(limit);
        var keys = TenantKeys.For(tenant);
        string[] ids;
        try
        {
            if (userId is null)
            {
                var all = await Db.HashKeysAsync(keys[TenantKeys.Sessions]).ConfigureAwait(false);
                ids = new string[all.Length];
                for (var i = 0; i < all.Length; i++) ids[i] = (string)all[i]!;
            }
            else
            {
                var list = (string?)await Db.HashGetAsync(keys[TenantKeys.UserSessions], userId).ConfigureAwait(false);
                ids = string.IsNullOrEmpty(list) ? [] : list.Split(' ', StringSplitOptions.RemoveEmptyEntries)
                    .Where(id => id != TenantKeys.ParkedMark).ToArray();
            }
        }
        catch (Exception ex) when (LicenseStore.IsUnavailable(ex))
        {
            throw new StoreUnavailableException("The licensing store did not answer.", ex);
        }

        Array.Sort(ids, StringComparer.Ordinal);
        var start = 0;
        if (after is not null)
        {
            var at = Array.BinarySearch(ids, after, StringComparer.Ordinal);
            start = at >= 0 ? at + 1 : ~at;
        }
        var count = Math.Min(limit, ids.Length - start);
        if (count <= 0) return new SessionPage([], null);

        var sessions = await ReadSessionsAsync(tenant, new ArraySegment<string>(ids, start, count)).ConfigureAwait(false);
        var next = start + count < ids.Length ? ids[start + count - 1] : null;
        return new SessionPage(sessions, next);
    }

    /// <summary>The given sessions as they are now; ids that are not live are left out.</summary>
    internal Task<IReadOnlyList<SessionRecord>> GetSessionsAsync(string tenant, IReadOnlyCollection<string> sessionIds) =>
        ReadSessionsAsync(tenant, sessionIds);

    private async Task<IReadOnlyList<SessionRecord>> ReadSessionsAsync(string tenant, IReadOnlyCollection<string> ids)
    {
        if (ids.Count == 0) return [];
        return ReadSessionsScript.Parse(await RunAsync(ReadSessionsScript.Call(tenant, Context, ids)).ConfigureAwait(false));
    }

    /// <summary>
    /// Audit entries newest first: at or after <paramref name="since"/> when given, continuing after
    /// <paramref name="cursor"/> when given, at most <paramref name="limit"/>.
    /// </summary>
    public async Task<AuditPage> ListAuditAsync(string tenant, DateTimeOffset? since, AuditCursor? cursor, int limit)
    {
        CheckLimit(limit);
        var call = ReadAuditScript.Call(tenant, Context, new ReadAuditScript.Arguments(since, limit, cursor));
        var (hasMore, entries) = ReadAuditScript.Parse(await RunAsync(call).ConfigureAwait(false));
        AuditCursor? next = null;
        if (hasMore && entries.Count > 0)
        {
            var lastAt = entries[^1].AtMs;
            var skip = 0;
            for (var i = entries.Count - 1; i >= 0 && entries[i].AtMs == lastAt; i--) skip++;
            if (cursor is { } prev && prev.AtMs == lastAt) skip += prev.Skip;
            next = new AuditCursor(lastAt, skip);
        }
        return new AuditPage(entries, next);
    }

    /// <summary>The usage ledger from <paramref name="from"/> to <paramref name="to"/> (UTC days, inclusive); days without a record are left out.</summary>
    public async Task<IReadOnlyList<UsageDay>> GetUsageAsync(string tenant, DateOnly from, DateOnly to)
    {
        if (to < from) throw new ArgumentException("'to' is before 'from'.", nameof(to));
        var first = EpochDay(from);
        var days = (int)(EpochDay(to) - first) + 1;
        if (days > LicenseStore.UsageRetentionDays + 1) throw new ArgumentOutOfRangeException(nameof(to), $"At most {LicenseStore.UsageRetentionDays + 1} days.");
        var fields = new RedisValue[days];
        for (var i = 0; i < days; i++) fields[i] = first + i;
        RedisValue[] values;
        try
        {
            values = await Db.HashGetAsync(TenantKeys.For(tenant)[TenantKeys.Usage], fields).ConfigureAwait(false);
        }
        catch (Exception ex) when (LicenseStore.IsUnavailable(ex))
        {
            throw new StoreUnavailableException("The licensing store did not answer.", ex);
        }
        var result = new List<UsageDay>();
        for (var i = 0; i < days; i++)
        {
            var text = (string?)values[i];
            if (text is null) continue;
            var colon = text.IndexOf(':');
            if (colon <= 0
                || !int.TryParse(text.AsSpan(0, colon), NumberStyles.None, CultureInfo.InvariantCulture, out var sessions)
                || !int.TryParse(text.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var users)) continue;
            result.Add(new UsageDay(from.AddDays(i), sessions, users));
        }
        return result;
    }

    /// <summary>The UTC epoch day number of <paramref name="day"/>: the key of the usage ledger.</summary>
    internal static long EpochDay(DateOnly day) => day.DayNumber - DateOnly.FromDateTime(DateTime.UnixEpoch).DayNumber;

    private static void CheckLimit(int limit)
    {
        if (limit is < 1 or > MaxPageSize) throw new ArgumentOutOfRangeException(nameof(limit), $"Between 1 and {MaxPageSize}.");
    }

    // The read scripts write no audit entry; the actor is there only because every script takes one.
    private ScriptContext Context => ScriptContext.For(_options.CurrentValue, "reader");

    private async Task<RedisResult[]> RunAsync(ScriptCall call)
    {
        try
        {
            var result = await call.Script.EvaluateAsync(Db, call.Keys, call.Argv).ConfigureAwait(false);
            return (RedisResult[])result!;
        }
        catch (Exception ex) when (LicenseStore.IsUnavailable(ex))
        {
            throw new StoreUnavailableException("The licensing store did not answer.", ex);
        }
    }
}
