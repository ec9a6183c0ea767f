using Gateway.Licensing.Options;
using Gateway.Licensing.Store;
using StackExchange.Redis;

namespace Gateway.Licensing.Scripts;

/// <summary>
/// One call of a script, ready to send: the script, its <c>KEYS</c> and its <c>ARGV</c>. Built by the
/// script's wrapper (<see cref="AdmitScript"/> and the others), which alone knows the script's positions.
/// </summary>
internal readonly record struct ScriptCall(StoreScript Script, RedisKey[] Keys, RedisValue[] Argv)
{
    /// <summary>
    /// A call for <paramref name="tenant"/> with room for <paramref name="specificArgs"/> arguments of the
    /// script's own after the common three, which are already written. <c>KEYS</c> are the tenant's keys
    /// in the order of <see cref="TenantKeys"/> (the order <c>common.lua</c> names them in) for every script.
    /// </summary>
    public static ScriptCall For(StoreScript script, string tenant, in ScriptContext context, int specificArgs)
    {
        var argv = new RedisValue[ScriptContext.Count + specificArgs];
        context.WriteTo(argv);
        return new ScriptCall(script, TenantKeys.For(tenant), argv);
    }
}

/// <summary>
/// <c>ARGV[1..3]</c>, the same for every script (<c>common.lua</c> reads them as <c>IDLE</c>,
/// <c>AUDIT_CAP</c> and <c>ACTOR</c>): the store idle window in ms, the audit capacity, and the actor
/// written to audit entries. A script's own arguments start at <c>ARGV[4]</c>.
/// </summary>
internal readonly record struct ScriptContext(long IdleWindowMs, int AuditCapacity, string Actor)
{
    /// <summary>How many arguments come before a script's own.</summary>
    public const int Count = 3;

    public static ScriptContext For(LicensingOptions options, string actor) =>
        new((long)options.StoreIdleWindow.TotalMilliseconds, options.AuditCapacity, actor);

    public void WriteTo(RedisValue[] argv)
    {
        argv[0] = IdleWindowMs;
        argv[1] = AuditCapacity;
        argv[2] = Actor;
    }
}
