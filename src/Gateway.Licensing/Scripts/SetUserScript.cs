using Gateway.Licensing.Results;
using StackExchange.Redis;

namespace Gateway.Licensing.Scripts;

/// <summary>
/// <c>set_user.lua</c>: activates or deactivates one user. Its header, mirrored:
/// <code>
/// ARGV[4] user, [5] '1' = activate, '0' = deactivate, [6] most users the tenant may register.
/// Reply: { status, active (0|1), ended pairs... } with status created | updated | unchanged |
/// seat_limit_reached | user_limit_reached | tenant_unlicensed.
/// </code>
/// </summary>
internal static class SetUserScript
{
    public static readonly StoreScript Script = StoreScript.Load("set_user");

    public readonly record struct Arguments(string User, bool Active, int MaxUsersPerTenant);

    public readonly record struct Reply(ActivationStatus Status, bool Active, List<EndedSession> Ended);

    public static ScriptCall Call(string tenant, in ScriptContext context, in Arguments args)
    {
        var call = ScriptCall.For(Script, tenant, context, 3);
        call.Argv[3] = args.User;
        call.Argv[4] = args.Active ? "1" : "0";
        call.Argv[5] = args.MaxUsersPerTenant;
        return call;
    }

    public static Reply Parse(string tenant, RedisResult[] reply)
    {
        var status = (string?)reply[0] switch
        {
            "created" => ActivationStatus.Created,
            "updated" => ActivationStatus.Updated,
            "unchanged" => ActivationStatus.Unchanged,
            "seat_limit_reached" => ActivationStatus.SeatLimitReached,
            "user_limit_reached" => ActivationStatus.UserLimitReached,
            "tenant_unlicensed" => ActivationStatus.TenantUnlicensed,
            var other => throw new InvalidOperationException($"Unexpected activation status '{other}'."),
        };
        return new Reply(status, (long)reply[1] == 1, EndedPairs.Read(tenant, reply, 2));
    }
}
