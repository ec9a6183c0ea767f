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
