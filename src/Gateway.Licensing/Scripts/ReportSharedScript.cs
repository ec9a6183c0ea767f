using Gateway.Licensing.Results;
using StackExchange.Redis;

namespace Gateway.Licensing.Scripts;

/// <summary>
/// <c>report_shared.lua</c>: reports a live session as shared (used from a second origin), once. Its header, mirrored:
/// <code>
/// ARGV[4] session id. Reply: { reported (0|1: this call reported it), ended pairs... }
/// </code>
/// </summary>
internal static class ReportSharedScript
{
    public static readonly StoreScript Script = StoreScript.Load("report_shared");

    public readonly record struct Reply(bool Reported, List<EndedSession> Ended);

    public static ScriptCall Call(string tenant, in ScriptContext context, string sessionId)
    {
        var call = ScriptCall.For(Script, tenant, context, 1);
        call.Argv[3] = sessionId;
        return call;
    }

    public static Reply Parse(string tenant, RedisResult[] reply) =>
        new((long)reply[0] == 1, EndedPairs.Read(tenant, reply, 1));
}
