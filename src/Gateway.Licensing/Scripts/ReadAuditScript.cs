using Gateway.Licensing.Results;
using StackExchange.Redis;

namespace Gateway.Licensing.Scripts;

/// <summary>
/// <c>read_audit.lua</c> (read-only): audit entries, newest first, admin changes and session activity
/// merged by time. Its header, mirrored:
/// <code>
/// ARGV[4] since ms ('' = none): entries at or after it; [5] page size; [6] cursor time ('' = from
/// the newest): entries at or before it, [7] how many entries at exactly the cursor time the
/// previous pages already returned.
/// Reply: { hasMore (0|1), entries (raw JSON)... }
/// </code>
/// </summary>
internal static class ReadAuditScript
{
    public static readonly StoreScript Script = StoreScript.Load("read_audit");

    public readonly record struct Arguments(DateTimeOffset? Since, int Limit, AuditCursor? Cursor);

    // Entries: the entries that parse, newest first; one that does not is left out.
    public readonly record struct Reply(bool HasMore, List<AuditEntry> Entries);

    public static ScriptCall Call(string tenant, in ScriptContext context, in Arguments args)
    {
        var call = ScriptCall.For(Script, tenant, context, 4);
        call.Argv[3] = args.Since is { } since ? since.ToUnixTimeMilliseconds() : "";
        call.Argv[4] = args.Limit;
        call.Argv[5] = args.Cursor is { } cursor ? cursor.AtMs : "";
        call.Argv[6] = args.Cursor?.Skip ?? 0;
        return call;
    }

    public static Reply Parse(RedisResult[] reply)
    {
        var entries = new List<AuditEntry>(reply.Length - 1);
        for (var i = 1; i < reply.Length; i++)
        {
            if (AuditEntry.TryParse((string?)reply[i], out var entry)) entries.Add(entry);
        }
        return new Reply((long)reply[0] == 1, entries);
    }
}
