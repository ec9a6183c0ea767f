using System.Globalization;
using System.Text.Json;

namespace Gateway.Licensing.Results;

/// <summary>
/// One audit entry as a script appended it: time (store clock), action, actor and the action's
/// target. Actions: <c>session-started</c>, <c>session-ended</c> (with <c>reason</c>),
/// <c>session-shared</c>, <c>user-registered</c>, <c>user-activated</c>, <c>user-deactivated</c>,
/// <c>plan-changed</c>, <c>shadow-refusal</c> and <c>shadow-preemption</c> (with <c>reason</c>: what
/// enforcement would have answered).
/// </summary>
/// <param name="AtMs">When it was written (store clock, ms since the Unix epoch).</param>
/// <param name="Action">What happened (see above).</param>
/// <param name="Actor">Who did it: <c>gateway</c>, <c>sweep</c>, <c>configuration</c> or the admin.</param>
/// <param name="UserId">The user concerned, if any.</param>
/// <param name="SessionId">The session concerned, if any.</param>
/// <param name="Reason">Why, for an ended session or a shadow entry.</param>
/// <param name="ClientKind">The session's client kind, as written (<c>desktop</c>).</param>
/// <param name="DeviceId">The session's device id.</param>
/// <param name="Model">A plan change's licence model.</param>
/// <param name="SeatLimit">A plan change's seat limit.</param>
/// <param name="ReservedUsers">A plan change's reserved users.</param>
/// <param name="FromConfiguration">Whether a plan change came from configuration.</param>
/// <param name="MaxSessionsPerUser">A plan change's per-user session limit.</param>
/// <param name="Enforcement">A plan change's enforcement (<c>enforce</c>, <c>shadow</c>).</param>
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
    /// <summary><see cref="AtMs"/> as a time.</summary>
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
