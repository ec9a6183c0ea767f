using Gateway.Licensing.Results;
using StackExchange.Redis;

namespace Gateway.Licensing.Scripts;

/// <summary>
/// <c>release_plan.lua</c>: hands a plan that configuration no longer names over to the management API.
/// Its header, mirrored:
/// <code>
/// No arguments of its own. Reply: { released (0|1), ended pairs... }
/// </code>
/// </summary>
internal static class ReleasePlanScript
{
    public static readonly StoreScript Script = StoreScript.Load("release_plan");

    // Released: true when the plan was managed by configuration until now.
    public readonly record struct Reply(bool Released, List<EndedSession> Ended);

    public static ScriptCall Call(string tenant, in ScriptContext context) => ScriptCall.For(Script, tenant, context, 0);

    public static Reply Parse(string tenant, RedisResult[] reply) =>
        new((long)reply[0] == 1, EndedPairs.Read(tenant, reply, 1));
}
