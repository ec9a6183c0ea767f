using Gateway.Licensing.Options;
using StackExchange.Redis;

namespace Gateway.Licensing.Scripts;

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
