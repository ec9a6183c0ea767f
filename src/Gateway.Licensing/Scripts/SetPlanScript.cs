using Gateway.Licensing.Results;
using Gateway.Licensing.Rules;
using StackExchange.Redis;

namespace Gateway.Licensing.Scripts;

/// <summary>
/// <c>set_plan.lua</c>: creates or changes a tenant's plan and re-establishes its limits at once. Its
/// header, mirrored:
/// <code>
/// ARGV[4] model, [5] seat limit, [6] '1' = the plan comes from configuration, [7] reserved users
/// separated by '\t' (may be empty), [8] the gateway's default per-user session limit, [9] the
/// gateway's enforcement for the tenant ('enforce' or 'shadow'), [10..] pairs of optional plan
/// fields: name, value ('' = the plan has no such field).
/// Reply: { status, activeUsers, ended pairs... } with status created | updated |
/// managed_by_config | seat_limit_below_active_users.
/// </code>
/// </summary>
internal static class SetPlanScript
{
    public static readonly StoreScript Script = StoreScript.Load("set_plan");

    // Plan: the plan; its optional fields follow as pairs (TenantPlan.OptionalFields).
    public readonly record struct Arguments(TenantPlan Plan, bool FromConfiguration, int DefaultMaxSessionsPerUser, EnforcementMode DefaultEnforcement);

    public readonly record struct Reply(PlanChangeStatus Status, int ActiveUsers, List<EndedSession> Ended);

    public static ScriptCall Call(string tenant, in ScriptContext context, in Arguments args)
    {
        var optional = args.Plan.OptionalFields().ToArray();
        var call = ScriptCall.For(Script, tenant, context, 6 + 2 * optional.Length);
        var argv = call.Argv;
        argv[3] = args.Plan.Model.ToString();
        argv[4] = args.Plan.SeatLimit;
        argv[5] = args.FromConfiguration ? "1" : "0";
        argv[6] = string.Join('\t', args.Plan.ReservedUsers.Distinct(StringComparer.Ordinal));
        argv[7] = args.DefaultMaxSessionsPerUser;
        argv[8] = args.DefaultEnforcement.ToName();
        for (var i = 0; i < optional.Length; i++)
        {
            argv[9 + 2 * i] = optional[i].Field;
            argv[10 + 2 * i] = optional[i].Value;
        }
        return call;
    }

    public static Reply Parse(string tenant, RedisResult[] reply)
    {
        var status = (string?)reply[0] switch
        {
            "created" => PlanChangeStatus.Created,
            "updated" => PlanChangeStatus.Updated,
            "managed_by_config" => PlanChangeStatus.ManagedByConfig,
            "seat_limit_below_active_users" => PlanChangeStatus.SeatLimitBelowActiveUsers,
            var other => throw new InvalidOperationException($"Unexpected plan status '{other}'."),
        };
        return new Reply(status, (int)(long)reply[1], EndedPairs.Read(tenant, reply, 2));
    }
}
