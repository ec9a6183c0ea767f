using Gateway.Licensing.Results;
using StackExchange.Redis;

namespace Gateway.Licensing.Scripts;

/// <summary>
/// <c>end_session.lua</c>: ends one session (logout, an admin, or the user's own request). Its header, mirrored:
/// <code>
/// ARGV[4] session id, [5] reason, [6] optional owner: when set, the session must belong to it.
/// Reply: { found (0|1), ended pairs... }
/// </code>
/// </summary>
internal static class EndSessionScript
{
    public static readonly StoreScript Script = StoreScript.Load("end_session");

    // Reason: an EndReason.
    // Owner: the user the session must belong to; null = any.
    public readonly record struct Arguments(string SessionId, string Reason, string? Owner);

    public readonly record struct Reply(bool Found, List<EndedSession> Ended);

    public static ScriptCall Call(string tenant, in ScriptContext context, in Arguments args)
    {
        var call = ScriptCall.For(Script, tenant, context, 3);
        call.Argv[3] = args.SessionId;
        call.Argv[4] = args.Reason;
        call.Argv[5] = args.Owner ?? "";
        return call;
    }

    public static Reply Parse(string tenant, RedisResult[] reply) =>
        new((long)reply[0] == 1, EndedPairs.Read(tenant, reply, 1));
}
