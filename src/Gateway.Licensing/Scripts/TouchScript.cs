using Gateway.Licensing.Results;
using StackExchange.Redis;

namespace Gateway.Licensing.Scripts;

/// <summary>
/// <c>touch.lua</c>: refreshes the sliding expiry of live sessions in one batch. Its header, mirrored:
/// <code>
/// ARGV[4..] pairs: session id, and the start (ms) the caller knows it by, or 0 for any.
/// Reply: { missingCount, missing ids..., ended pairs... }
/// </code>
/// </summary>
internal static class TouchScript
{
    public static readonly StoreScript Script = StoreScript.Load("touch");

    /// <summary>The reply: sessions the store no longer holds (as the caller knew them), and those it ended.</summary>
    public readonly record struct Reply(string[] Missing, List<EndedSession> Ended);

    // sessions: each session with the start it is known by (0 = any).
    public static ScriptCall Call(string tenant, in ScriptContext context, IReadOnlyList<(string SessionId, long StartedMs)> sessions)
    {
        var call = ScriptCall.For(Script, tenant, context, 2 * sessions.Count);
        var argv = call.Argv;
        for (var i = 0; i < sessions.Count; i++)
        {
            argv[ScriptContext.Count + 2 * i] = sessions[i].SessionId;
            argv[ScriptContext.Count + 2 * i + 1] = sessions[i].StartedMs;
        }
        return call;
    }

    public static Reply Parse(string tenant, RedisResult[] reply)
    {
        var missingCount = (int)(long)reply[0];
        var missing = new string[missingCount];
        for (var m = 0; m < missingCount; m++) missing[m] = (string)reply[1 + m]!;
        return new Reply(missing, EndedPairs.Read(tenant, reply, 1 + missingCount));
    }
}
