using System.Globalization;
using Gateway.Licensing.Identity;
using Gateway.Licensing.Results;
using Gateway.Licensing.Rules;
using StackExchange.Redis;

namespace Gateway.Licensing.Scripts;

/// <summary>
/// <c>admit.lua</c>: admits one session, atomically for the tenant. Its header, mirrored:
/// <code>
/// ARGV[4] session id, [5] user, [6] client kind, [7] device, [8] service lifetime ms,
/// [9] '1' = AtCapacity Reject, [10] '1' = AutoActivate, [11] origin ('' = unknown),
/// [12] most users the tenant may register, [13] default per-user session limit (0 = none),
/// [14] the gateway's enforcement for the tenant, 'enforce' or 'shadow'.
/// Reply: { outcome, created, seatLimit, activeSessions, retryAfterMs, yourSessions, shared,
///          startedMs, lifetimeLeftMs, shadow, registeredMs, ended pairs... }
/// </code>
/// </summary>
internal static class AdmitScript
{
    public static readonly StoreScript Script = StoreScript.Load("admit");

    private const int ArgCount = 11;

    // Reply positions (0-based).
    private const int Outcome = 0, Created = 1, SeatLimit = 2, ActiveSessions = 3, RetryAfterMs = 4, YourSessions = 5,
        Shared = 6, StartedMs = 7, LifetimeLeftMs = 8, Shadow = 9, RegisteredMs = 10, EndedFrom = 11;

    /// <summary>The script's own arguments, <c>ARGV[4..14]</c>.</summary>
    // Origin: a hash of client address and User-Agent; 0 = unknown.
    // DefaultMaxSessionsPerUser: 0 = no limit; the plan's own value wins.
    // DefaultEnforcement: the plan's own value wins.
    public readonly record struct Arguments(
        string SessionId,
        string User,
        ClientKind ClientKind,
        string Device,
        long ServiceLifetimeMs,
        bool RejectAtCapacity,
        bool AutoActivate,
        long Origin,
        int MaxUsersPerTenant,
        int DefaultMaxSessionsPerUser,
        EnforcementMode DefaultEnforcement);

    /// <summary>The reply, position by position.</summary>
    // StartedMs: when the admitted session started (store clock); 0 when refused.
    // LifetimeLeftMs: for an admitted service session, how long until its deadline; else null.
    // ShadowOf: what enforcement would have done, for a session that started in shadow mode over it.
    // RegisteredMs: when this call registered the user (store clock); 0 when it registered nobody.
    public readonly record struct Reply(
        AdmissionOutcome Outcome,
        bool Created,
        int SeatLimit,
        int ActiveSessions,
        long RetryAfterMs,
        string[] YourSessions,
        bool Shared,
        long StartedMs,
        long? LifetimeLeftMs,
        AdmissionOutcome? ShadowOf,
        long RegisteredMs,
        List<EndedSession> Ended);

    public static ScriptCall Call(string tenant, in ScriptContext context, in Arguments args)
    {
        var call = ScriptCall.For(Script, tenant, context, ArgCount);
        var argv = call.Argv;
        argv[3] = args.SessionId;
        argv[4] = args.User;
        argv[5] = args.ClientKind.ToName();
        argv[6] = args.Device;
        argv[7] = args.ServiceLifetimeMs;
        argv[8] = args.RejectAtCapacity ? "1" : "0";
        argv[9] = args.AutoActivate ? "1" : "0";
        argv[10] = args.Origin == 0 ? RedisValue.EmptyString : args.Origin.ToString("x16", CultureInfo.InvariantCulture);
        argv[11] = args.MaxUsersPerTenant;
        argv[12] = args.DefaultMaxSessionsPerUser;
        argv[13] = args.DefaultEnforcement.ToName();
        return call;
    }

    public static Reply Parse(string tenant, RedisResult[] reply)
    {
        var lifetimeLeft = (long)reply[LifetimeLeftMs];
        var yours = (string?)reply[YourSessions];
        return new Reply(
            ParseOutcome((string?)reply[Outcome]) ?? throw new InvalidOperationException("Admission reply without an outcome."),
            (long)reply[Created] == 1,
            (int)(long)reply[SeatLimit],
            (int)(long)reply[ActiveSessions],
            (long)reply[RetryAfterMs],
            string.IsNullOrEmpty(yours) ? [] : yours.Split(' ', StringSplitOptions.RemoveEmptyEntries),
            (long)reply[Shared] == 1,
            (long)reply[StartedMs],
            lifetimeLeft < 0 ? null : lifetimeLeft,
            ParseOutcome((string?)reply[Shadow]),
            (long)reply[RegisteredMs],
            EndedPairs.Read(tenant, reply, EndedFrom));
    }

    /// <summary>An outcome as the script writes it (<c>seats_exhausted</c>); null for '' (no outcome, e.g. no shadow note).</summary>
    private static AdmissionOutcome? ParseOutcome(string? outcome) => outcome switch
    {
        null or "" => null,
        "admitted" => AdmissionOutcome.Admitted,
        "preempted" => AdmissionOutcome.Preempted,
        "seats_exhausted" => AdmissionOutcome.SeatsExhausted,
        "user_inactive" => AdmissionOutcome.UserInactive,
        "tenant_unlicensed" => AdmissionOutcome.TenantUnlicensed,
        "user_sessions_exhausted" => AdmissionOutcome.UserSessionsExhausted,
        var other => throw new InvalidOperationException($"Unexpected admission outcome '{other}'."),
    };
}
