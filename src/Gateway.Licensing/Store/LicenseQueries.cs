using System.Globalization;
using System.Text.Json;
using Gateway.Licensing.Identity;
using Gateway.Licensing.Options;
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
    public const int FilteredScanBudget = 5000;

    private const long MillisPerDay = 86_400_000;

    private readonly IConnectionMultiplexer _connection;
    private readonly IOptionsMonitor<LicensingOptions> _options;

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
        var filter = active switch { true => "1", false => "0", null => "" };
        var budget = active is null ? limit : Math.Max(limit, FilteredScanBudget);
        var reply = await RunAsync(tenant, LicensingScripts.ReadUsers, [after ?? "", limit, filter, budget]).ConfigureAwait(false);
        var users = new List<UserRecord>((reply.Length - 1) / 4);
        for (var i = 1; i + 3 < reply.Length; i += 4)
        {
            var seen = (string?)reply[i + 3];
            users.Add(new UserRecord(
                (string)reply[i]!,
                (long)reply[i + 1] == 1,
                (int)(long)reply[i + 2],
                string.IsNullOrEmpty(seen) ? null : FromMillis(long.Parse(seen, CultureInfo.InvariantCulture))));
        }
        var next = (string?)reply[0];
        return new UserPage(users, string.IsNullOrEmpty(next) ? null : next);
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
                ids = string.IsNullOrEmpty(list) ? [] : list.Split(' ', StringSplitOptions.RemoveEmptyEntries);
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

        var args = new RedisValue[count];
        for (var i = 0; i < count; i++) args[i] = ids[start + i];
        var sessions = await ReadSessionsAsync(tenant, args).ConfigureAwait(false);
        var next = start + count < ids.Length ? ids[start + count - 1] : null;
        return new SessionPage(sessions, next);
    }

    /// <summary>The given sessions as they are now; ids that are not live are left out.</summary>
    public Task<IReadOnlyList<SessionRecord>> GetSessionsAsync(string tenant, IReadOnlyCollection<string> sessionIds)
    {
        var args = new RedisValue[sessionIds.Count];
        var i = 0;
        foreach (var id in sessionIds) args[i++] = id;
        return ReadSessionsAsync(tenant, args);
    }

    private async Task<IReadOnlyList<SessionRecord>> ReadSessionsAsync(string tenant, RedisValue[] ids)
    {
        if (ids.Length == 0) return [];
        var reply = await RunAsync(tenant, LicensingScripts.ReadSessions, ids).ConfigureAwait(false);
        var sessions = new List<SessionRecord>(reply.Length / 8);
        for (var i = 0; i + 7 < reply.Length; i += 8)
        {
            if (!ClientKindNames.TryParse((string?)reply[i + 2], out var kind)) continue;
            sessions.Add(new SessionRecord(
                (string)reply[i]!,
                (string)reply[i + 1]!,
                kind,
                (string)reply[i + 3]!,
                FromMillis((long)reply[i + 4]),
                FromMillis((long)reply[i + 5]),
                FromMillis((long)reply[i + 6]),
                (long)reply[i + 7] == 1));
        }
        return sessions;
    }

    /// <summary>
    /// Audit entries newest first: at or after <paramref name="since"/> when given, continuing after
    /// <paramref name="cursor"/> when given, at most <paramref name="limit"/>.
    /// </summary>
    public async Task<AuditPage> ListAuditAsync(string tenant, DateTimeOffset? since, AuditCursor? cursor, int limit)
    {
        CheckLimit(limit);
        var reply = await RunAsync(tenant, LicensingScripts.ReadAudit,
        [
            since is { } s ? s.ToUnixTimeMilliseconds() : "",
            limit,
            cursor is { } c ? c.AtMs : "",
            cursor?.Skip ?? 0,
        ]).ConfigureAwait(false);
        var entries = new List<AuditEntry>(reply.Length - 1);
        for (var i = 1; i < reply.Length; i++)
        {
            if (AuditEntry.TryParse((string?)reply[i], out var entry)) entries.Add(entry);
        }
        AuditCursor? next = null;
        if ((long)reply[0] == 1 && entries.Count > 0)
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
    public static long EpochDay(DateOnly day) => day.DayNumber - DateOnly.FromDateTime(DateTime.UnixEpoch).DayNumber;

    private static DateTimeOffset FromMillis(long ms) => DateTimeOffset.FromUnixTimeMilliseconds(ms);

    private static void CheckLimit(int limit)
    {
        if (limit is < 1 or > MaxPageSize) throw new ArgumentOutOfRangeException(nameof(limit), $"Between 1 and {MaxPageSize}.");
    }

    private async Task<RedisResult[]> RunAsync(string tenant, StoreScript script, RedisValue[] args)
    {
        var options = _options.CurrentValue;
        var argv = new RedisValue[3 + args.Length];
        argv[0] = (long)options.StoreIdleWindow.TotalMilliseconds;
        argv[1] = options.AuditCapacity;
        argv[2] = "reader";
        args.CopyTo(argv, 3);
        try
        {
            var result = await script.EvaluateAsync(Db, TenantKeys.For(tenant), argv).ConfigureAwait(false);
            return (RedisResult[])result!;
        }
        catch (Exception ex) when (LicenseStore.IsUnavailable(ex))
        {
            throw new StoreUnavailableException("The licensing store did not answer.", ex);
        }
    }
}

/// <summary>A known user of a tenant: whether active, how many live sessions, when last seen (store clock).</summary>
public sealed record UserRecord(string UserId, bool Active, int Sessions, DateTimeOffset? LastSeenAt);

/// <summary>A page of users; <see cref="NextAfter"/> (the last id examined) continues the walk, null at the end.</summary>
public sealed record UserPage(IReadOnlyList<UserRecord> Users, string? NextAfter);

/// <summary>A page of sessions; <see cref="NextAfter"/> continues the walk, null at the end.</summary>
public sealed record SessionPage(IReadOnlyList<SessionRecord> Sessions, string? NextAfter);

/// <summary>Where an audit listing continues: entries at or before <see cref="AtMs"/>, skipping the first <see cref="Skip"/> at exactly that time.</summary>
public readonly record struct AuditCursor(long AtMs, int Skip);

/// <summary>A page of audit entries, newest first; <see cref="Next"/> continues with older ones, null at the end.</summary>
public sealed record AuditPage(IReadOnlyList<AuditEntry> Entries, AuditCursor? Next);

/// <summary>One day of the usage ledger: peaks of concurrent sessions and of active users that UTC day.</summary>
public sealed record UsageDay(DateOnly Date, int PeakSessions, int PeakActiveUsers);

/// <summary>
/// One audit entry as a script appended it: time (store clock), action, actor and the action's
/// target. Actions: <c>session-started</c>, <c>session-ended</c> (with <c>reason</c>),
/// <c>session-shared</c>, <c>user-registered</c>, <c>user-activated</c>, <c>user-deactivated</c>,
/// <c>plan-changed</c>, <c>shadow-refusal</c> and <c>shadow-preemption</c> (with <c>reason</c>: what
/// enforcement would have answered).
/// </summary>
public sealed record AuditEntry(
    long AtMs,
    string Action,
    string? Actor,
    string? UserId,
    string? SessionId,
    string? Reason,
    string? ClientKind,
    string? DeviceId,
    string? Model,
    int? SeatLimit,
    IReadOnlyList<string>? ReservedUsers,
    bool? FromConfiguration,
    int? MaxSessionsPerUser = null,
    string? Enforcement = null)
{
    public DateTimeOffset At => DateTimeOffset.FromUnixTimeMilliseconds(AtMs);

    internal static bool TryParse(string? json, out AuditEntry entry)
    {
        entry = null!;
        if (string.IsNullOrEmpty(json)) return false;
        if (json[0] == ActivityMarker) return TryParseActivity(json, out entry);
        try
        {
            using var doc = JsonDocument.Parse(json);
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) return false;
            if (!root.TryGetProperty("at", out var at) || !at.TryGetDouble(out var atMs)) return false;
            IReadOnlyList<string>? reserved = null;
            if (root.TryGetProperty("reservedUsers", out var r))
            {
                // cjson writes an empty Lua table as {}.
                reserved = r.ValueKind == JsonValueKind.Array
                    ? r.EnumerateArray().Where(e => e.ValueKind == JsonValueKind.String).Select(e => e.GetString()!).ToArray()
                    : [];
            }
            entry = new AuditEntry(
                (long)atMs,
                Str(root, "action") ?? "unknown",
                Str(root, "actor"),
                Str(root, "user"),
                Str(root, "session"),
                Str(root, "reason"),
                Str(root, "clientKind"),
                Str(root, "device"),
                Str(root, "model"),
                root.TryGetProperty("seatLimit", out var l) && l.TryGetDouble(out var limit) ? (int)limit : null,
                reserved,
                root.TryGetProperty("fromConfig", out var fc) && fc.ValueKind is JsonValueKind.True or JsonValueKind.False ? fc.GetBoolean() : null,
                root.TryGetProperty("maxSessionsPerUser", out var m) && m.TryGetDouble(out var perUser) ? (int)perUser : null,
                Str(root, "enforcement"));
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    /// <summary>Marks the positional form of a session-activity entry (the scripts' <c>log_activity</c>).</summary>
    private const char ActivityMarker = '~';

    /// <summary>
    /// <c>~at, us, action, actor, session, user, clientKind, device, reason</c>, tab-separated; an empty
    /// field is one the action does not have.
    /// </summary>
    private static bool TryParseActivity(string line, out AuditEntry entry)
    {
        entry = null!;
        var fields = line[1..].Split('\t');
        if (fields.Length != 9 || !long.TryParse(fields[0], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var atMs)) return false;
        entry = new AuditEntry(atMs, OrNull(fields[2]) ?? "unknown", OrNull(fields[3]), OrNull(fields[5]), OrNull(fields[4]),
            OrNull(fields[8]), OrNull(fields[6]), OrNull(fields[7]), Model: null, SeatLimit: null, ReservedUsers: null, FromConfiguration: null);
        return true;
    }

    private static string? OrNull(string field) => field.Length == 0 ? null : field;

    private static string? Str(JsonElement root, string name) =>
        root.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
}
