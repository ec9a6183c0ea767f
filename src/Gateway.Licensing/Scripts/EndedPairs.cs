using Gateway.Licensing.Results;
using StackExchange.Redis;

namespace Gateway.Licensing.Scripts;

/// <summary>
/// The tail of every writing script's reply: the sessions it ended, as flat (session id, reason) pairs
/// (<c>ENDED</c> and <c>with_ended</c> in <c>common.lua</c>).
/// </summary>
internal static class EndedPairs
{
    /// <summary>The pairs of <paramref name="reply"/> from <paramref name="start"/> (0-based) to its end.</summary>
    public static List<EndedSession> Read(string tenant, RedisResult[] reply, int start)
    {
        var ended = new List<EndedSession>(Math.Max(0, reply.Length - start) / 2);
        for (var i = start; i + 1 < reply.Length; i += 2)
        {
            ended.Add(new EndedSession(tenant, (string)reply[i]!, (string)reply[i + 1]!));
        }
        return ended;
    }

    /// <summary>How many of <paramref name="ended"/> had expired (idle or past a service session's lifetime).</summary>
    public static ExpiredSessions CountExpired(List<EndedSession> ended)
    {
        int idle = 0, lifetime = 0;
        foreach (var e in ended)
        {
            if (e.Reason == EndReason.Idle) idle++;
            else if (e.Reason == EndReason.Lifetime) lifetime++;
        }
        return new ExpiredSessions(idle, lifetime);
    }

    /// <summary>The ids of <paramref name="ended"/>, in order.</summary>
    public static string[] Ids(List<EndedSession> ended)
    {
        var ids = new string[ended.Count];
        for (var i = 0; i < ids.Length; i++) ids[i] = ended[i].SessionId;
        return ids;
    }
}
