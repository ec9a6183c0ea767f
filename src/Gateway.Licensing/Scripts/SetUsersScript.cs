using Gateway.Licensing.Results;
using StackExchange.Redis;

namespace Gateway.Licensing.Scripts;

/// <summary>
/// <c>set_users.lua</c>: activates and deactivates a list of users, all or nothing. Its header, mirrored:
/// <code>
/// ARGV[4] most users the tenant may register, [5..] pairs: user, '1' | '0'.
/// Reply: { status, activeUsers, then per user: created (0|1) ..., ended pairs... } with status
/// ok | seat_limit_reached | user_limit_reached | tenant_unlicensed.
/// </code>
/// The per-user flags are there only with status ok.
/// </summary>
internal static class SetUsersScript
{
    public static readonly StoreScript Script = StoreScript.Load("set_users");

    // Changes: distinct users, each with the state wanted.
    public readonly record struct Arguments(int MaxUsersPerTenant, IReadOnlyList<(string User, bool Active)> Changes);

    // Status: ActivationStatus.Updated for ok.
    // Created: per change, in order: whether that user was registered by this call; empty unless ok.
    public readonly record struct Reply(ActivationStatus Status, int ActiveUsers, bool[] Created, List<EndedSession> Ended);

    public static ScriptCall Call(string tenant, in ScriptContext context, in Arguments args)
    {
        var changes = args.Changes;
        var call = ScriptCall.For(Script, tenant, context, 1 + 2 * changes.Count);
        var argv = call.Argv;
        argv[3] = args.MaxUsersPerTenant;
        for (var i = 0; i < changes.Count; i++)
        {
            argv[4 + 2 * i] = changes[i].User;
            argv[5 + 2 * i] = changes[i].Active ? "1" : "0";
        }
        return call;
    }

    // changeCount: how many changes the call named: the number of per-user flags of an ok reply.
    public static Reply Parse(string tenant, RedisResult[] reply, int changeCount)
    {
        var status = (string?)reply[0] switch
        {
            "ok" => ActivationStatus.Updated,
            "seat_limit_reached" => ActivationStatus.SeatLimitReached,
            "user_limit_reached" => ActivationStatus.UserLimitReached,
            "tenant_unlicensed" => ActivationStatus.TenantUnlicensed,
            var other => throw new InvalidOperationException($"Unexpected bulk status '{other}'."),
        };
        var createdCount = status == ActivationStatus.Updated ? changeCount : 0;
        var created = new bool[createdCount];
        for (var i = 0; i < createdCount; i++) created[i] = (long)reply[2 + i] == 1;
        return new Reply(status, (int)(long)reply[1], created, EndedPairs.Read(tenant, reply, 2 + createdCount));
    }
}
