using Gateway.Licensing.Results;
using StackExchange.Redis;

namespace Gateway.Licensing.Scripts;

/// <summary>
/// <c>swap_users.lua</c>: deactivates one user and activates another in one step. Its header, mirrored:
/// <code>
/// ARGV[4] user to deactivate, [5] user to activate, [6] most users the tenant may register.
/// Reply: { status, deactivatedActive (0|1), activatedActive (0|1), activatedCreated (0|1), ended pairs... }
/// with status ok | seat_limit_reached | user_limit_reached | tenant_unlicensed.
/// </code>
/// </summary>
internal static class SwapUsersScript
{
    public static readonly StoreScript Script = StoreScript.Load("swap_users");

    public readonly record struct Arguments(string Deactivate, string Activate, int MaxUsersPerTenant);

    // Status: ActivationStatus.Updated for ok.
    public readonly record struct Reply(ActivationStatus Status, bool DeactivatedActive, bool ActivatedActive, bool ActivatedCreated, List<EndedSession> Ended);

    public static ScriptCall Call(string tenant, in ScriptContext context, in Arguments args)
    {
        var call = ScriptCall.For(Script, tenant, context, 3);
        call.Argv[3] = args.Deactivate;
        call.Argv[4] = args.Activate;
        call.Argv[5] = args.MaxUsersPerTenant;
        return call;
    }

    public static Reply Parse(string tenant, RedisResult[] reply)
    {
        var status = (string?)reply[0] switch
        {
            "ok" => ActivationStatus.Updated,
            "seat_limit_reached" => ActivationStatus.SeatLimitReached,
            "user_limit_reached" => ActivationStatus.UserLimitReached,
            "tenant_unlicensed" => ActivationStatus.TenantUnlicensed,
            var other => throw new InvalidOperationException($"Unexpected swap status '{other}'."),
        };
        return new Reply(status, (long)reply[1] == 1, (long)reply[2] == 1, (long)reply[3] == 1, EndedPairs.Read(tenant, reply, 4));
    }
}
