using Gateway.Licensing.Identity;
using Gateway.Licensing.Results;
using StackExchange.Redis;

namespace Gateway.Licensing.Scripts;

/// <summary>
/// <c>read_sessions.lua</c> (read-only): details of the given live sessions, consistent with one another
/// at one instant of the store clock. Its header, mirrored:
/// <code>
/// ARGV[4..] session ids; ids no longer live are skipped.
/// Reply: flat groups of 8: id, user, kind, device, startedMs, lastUsedMs, expiresMs, borrowed (0|1).
/// </code>
/// </summary>
internal static class ReadSessionsScript
{
    public static readonly StoreScript Script = StoreScript.Load("read_sessions");

    private const int PerSession = 8;

    public static ScriptCall Call(string tenant, in ScriptContext context, IReadOnlyCollection<string> sessionIds)
    {
        var call = ScriptCall.For(Script, tenant, context, sessionIds.Count);
        var i = ScriptContext.Count;
        foreach (var id in sessionIds) call.Argv[i++] = id;
        return call;
    }

    public static List<SessionRecord> Parse(RedisResult[] reply)
    {
        var sessions = new List<SessionRecord>(reply.Length / PerSession);
        for (var i = 0; i + PerSession - 1 < reply.Length; i += PerSession)
        {
            if (!ClientKindNames.TryParse((string?)reply[i + 2], out var kind)) continue;
            sessions.Add(new SessionRecord(
                (string)reply[i]!,
                (string)reply[i + 1]!,
                kind,
                (string)reply[i + 3]!,
                DateTimeOffset.FromUnixTimeMilliseconds((long)reply[i + 4]),
                DateTimeOffset.FromUnixTimeMilliseconds((long)reply[i + 5]),
                DateTimeOffset.FromUnixTimeMilliseconds((long)reply[i + 6]),
                (long)reply[i + 7] == 1));
        }
        return sessions;
    }
}
