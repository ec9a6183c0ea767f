using Gateway.Licensing.Results;
using StackExchange.Redis;

namespace Gateway.Licensing.Scripts;

/// <summary>
/// <c>sweep.lua</c>: ends expired sessions, trims the usage ledger and forgets users never active past
/// their retention. Its header, mirrored:
/// <code>
/// ARGV[4] batch size, [5] usage retention in days, [6] user retention in ms.
/// Reply: { moreToDo (0|1), forgottenUsers, nextDueMs (-1: nothing pending), ended pairs... }
/// </code>
/// </summary>
internal static class SweepScript
{
    public static readonly StoreScript Script = StoreScript.Load("sweep");

    public readonly record struct Arguments(int BatchSize, int UsageRetentionDays, long UserRetentionMs);

    // NextDueMs: when the tenant next has something to do here (store clock); null when nothing is pending.
    public readonly record struct Reply(bool MoreToDo, int ForgottenUsers, long? NextDueMs, List<EndedSession> Ended);

    public static ScriptCall Call(string tenant, in ScriptContext context, in Arguments args)
    {
        var call = ScriptCall.For(Script, tenant, context, 3);
        call.Argv[3] = args.BatchSize;
        call.Argv[4] = args.UsageRetentionDays;
        call.Argv[5] = args.UserRetentionMs;
        return call;
    }

    public static Reply Parse(string tenant, RedisResult[] reply)
    {
        var nextDue = (long)reply[2];
        return new Reply((long)reply[0] == 1, (int)(long)reply[1], nextDue < 0 ? null : nextDue, EndedPairs.Read(tenant, reply, 3));
    }
}
