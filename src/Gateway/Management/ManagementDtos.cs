using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using System.Text.Json;
using System.Text.Json.Serialization;
using Gateway.Licensing.Identity;
using Gateway.Licensing.Results;
using Gateway.Licensing.Rules;
using Gateway.Licensing.Store;

namespace Gateway.Management;

// Request and response bodies of the management API (docs/management-api.md). JSON is camelCase; enums are written
// exactly as the product's documentation spells them: models as "RegisteredUsers", client kinds in lower case. Numbers
// are JSON numbers only (strict), whatever the host's JSON options allow.

/// <summary>Writes and reads enum names as declared (<c>RegisteredUsers</c>); numbers are refused.</summary>
public sealed class ExactEnumConverter<TEnum>() : JsonStringEnumConverter<TEnum>(namingPolicy: null, allowIntegerValues: false)
    where TEnum : struct, Enum;

/// <summary>Writes and reads enum names in lower case (<c>desktop</c>); numbers are refused.</summary>
public sealed class LowerCaseEnumConverter<TEnum>() : JsonStringEnumConverter<TEnum>(JsonNamingPolicy.CamelCase, allowIntegerValues: false)
    where TEnum : struct, Enum;

/// <summary>Body of <c>PUT /v1/tenants/{tenant}</c>.</summary>
[JsonNumberHandling(JsonNumberHandling.Strict)]
public sealed record PlanRequest(
    [property: Description("RegisteredUsers or ConcurrentSessions."), AllowedValues(nameof(LicenseModel.RegisteredUsers), nameof(LicenseModel.ConcurrentSessions))] string Model,
    [property: Description("Seats of the plan: 1 to 1000000.")] int SeatLimit,
    [property: Description("ConcurrentSessions: users guaranteed one session each; at most seatLimit of them. Omitted = none.")] IReadOnlyList<string>? ReservedUsers = null,
    [property: Description("Most live sessions one user may hold, 0 to 1000000 (0 = no limit). Omitted = the gateway's Licensing:MaxSessionsPerUser applies.")] int? MaxSessionsPerUser = null,
    [property: Description("enforce: seats are enforced; shadow: nothing is refused or preempted for seats, would-be refusals are counted, audited and marked on the forwarded request. Omitted = Licensing:Tenants:{tenant}:Enforcement, else Licensing:Enforcement applies."), AllowedValues(EnforcementModeNames.Enforce, EnforcementModeNames.Shadow)] string? Enforcement = null);

/// <summary>Body of <c>PUT /v1/tenants/{tenant}/users/{userId}</c>.</summary>
[JsonNumberHandling(JsonNumberHandling.Strict)]
public sealed record UserActivationRequest(
    [property: Description("true to activate (takes a seat), false to deactivate (ends the user's sessions at once).")] bool Active);

/// <summary>One entry of a bulk change.</summary>
[JsonNumberHandling(JsonNumberHandling.Strict)]
public sealed record BulkActivationItem(string UserId, bool Active);

/// <summary>Body of <c>PATCH /v1/tenants/{tenant}/users</c>: applied all or nothing; each user at most once.</summary>
[JsonNumberHandling(JsonNumberHandling.Strict)]
public sealed record BulkActivationRequest(IReadOnlyList<BulkActivationItem> Users);

/// <summary>Body of <c>POST /v1/tenants/{tenant}/users/swap</c>.</summary>
[JsonNumberHandling(JsonNumberHandling.Strict)]
public sealed record SwapRequest(
    [property: Description("The user to deactivate; their sessions end.")] string Deactivate,
    [property: Description("The user to activate, taking the seat the other one frees.")] string Activate);

/// <summary>A tenant's plan and live counts.</summary>
[JsonNumberHandling(JsonNumberHandling.Strict)]
public sealed record TenantResponse(
    string Tenant,
    [property: JsonConverter(typeof(ExactEnumConverter<LicenseModel>))] LicenseModel Model,
    int SeatLimit,
    [property: Description("Number of active users.")] int ActiveUsers,
    [property: Description("Number of live sessions.")] int ActiveSessions,
    IReadOnlyList<string> ReservedUsers,
    int IdleTimeoutSeconds,
    [property: Description("Most live sessions one user may hold (0 = no limit): the plan's own value, else the gateway's Licensing:MaxSessionsPerUser.")] int MaxSessionsPerUser,
    [property: Description("enforce or shadow: the plan's own value, else Licensing:Tenants:{tenant}:Enforcement, else Licensing:Enforcement."), AllowedValues(EnforcementModeNames.Enforce, EnforcementModeNames.Shadow)] string Enforcement);

/// <summary>One user of a tenant.</summary>
[JsonNumberHandling(JsonNumberHandling.Strict)]
public sealed record UserResponse(
    string UserId,
    bool Active,
    [property: Description("Number of live sessions of the user.")] int Sessions,
    [property: Description("Last request of the user (store clock); null when never seen.")] DateTimeOffset? LastSeenAt)
{
    public static UserResponse From(UserRecord u) => new(u.UserId, u.Active, u.Sessions, u.LastSeenAt);
}

/// <summary>A page of users, in ordinal order of their ids.</summary>
[JsonNumberHandling(JsonNumberHandling.Strict)]
public sealed record UserListResponse(
    IReadOnlyList<UserResponse> Users,
    [property: Description("Pass as ?cursor= to get the next page; null when there are no more users. A filtered page may be short, even empty, while nextCursor is set.")] string? NextCursor);

/// <summary>A user's activation state.</summary>
[JsonNumberHandling(JsonNumberHandling.Strict)]
public sealed record UserStateResponse(string UserId, bool Active);

/// <summary>Answer of a bulk change: the resulting state of every listed user.</summary>
[JsonNumberHandling(JsonNumberHandling.Strict)]
public sealed record BulkActivationResponse(
    [property: Description("Active users of the tenant after the change.")] int ActiveUsers,
    IReadOnlyList<UserStateResponse> Users);

/// <summary>Answer of a swap: both users' states.</summary>
[JsonNumberHandling(JsonNumberHandling.Strict)]
public sealed record SwapResponse(UserStateResponse Deactivated, UserStateResponse Activated);

/// <summary>One live session.</summary>
[JsonNumberHandling(JsonNumberHandling.Strict)]
public sealed record SessionResponse(
    string SessionId,
    string UserId,
    [property: JsonConverter(typeof(LowerCaseEnumConverter<ClientKind>))] ClientKind ClientKind,
    string DeviceId,
    DateTimeOffset StartedAt,
    [property: Description("Last admitted or refreshed (store clock).")] DateTimeOffset LastSeenAt,
    [property: Description("When the session ends unless used again: lastSeenAt + idle timeout + touch interval (use is recorded at most once per touch interval), or a service session's lifetime if earlier.")] DateTimeOffset ExpiresAt,
    [property: Description("True unless this is the most recently used session of its user.")] bool Borrowed)
{
    public static SessionResponse From(SessionRecord s) =>
        new(s.SessionId, s.UserId, s.ClientKind, s.DeviceId, s.StartedAt, s.LastSeenAt, s.ExpiresAt, s.Borrowed);
}

/// <summary>A page of sessions, in ordinal order of their ids.</summary>
[JsonNumberHandling(JsonNumberHandling.Strict)]
public sealed record SessionListResponse(
    IReadOnlyList<SessionResponse> Sessions,
    [property: Description("Pass as ?cursor= to get the next page; null when there are no more sessions.")] string? NextCursor);

/// <summary>One audit entry; members that do not apply to the action are omitted.</summary>
[JsonNumberHandling(JsonNumberHandling.Strict)]
public sealed record AuditEntryResponse(
    [property: Description("Store-clock time of the change.")] DateTimeOffset At,
    [property: Description("session-started, session-ended, session-shared, user-registered, user-activated, user-deactivated, plan-changed, or in shadow mode shadow-refusal and shadow-preemption.")] string Action,
    [property: Description("Who did it: the caller's user id (user@tenant for a caller of another tenant), or gateway, sweep, configuration.")] string? Actor,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? UserId,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? SessionId,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull), Description("idle, lifetime, logout, revoked, preempted, deactivated; or auto-activate, bulk, swap; or removed-from-configuration; or, on a shadow entry, what enforcement would have answered: seats-exhausted, user-sessions-exhausted, user-inactive, preempted.")] string? Reason,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? ClientKind,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? DeviceId,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Model,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? SeatLimit,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<string>? ReservedUsers,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] bool? FromConfiguration,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull), Description("plan-changed: the plan's per-user session limit, when it sets one.")] int? MaxSessionsPerUser,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull), Description("plan-changed: the plan's enforcement (enforce or shadow), when it sets one.")] string? Enforcement)
{
    public static AuditEntryResponse From(AuditEntry e) =>
        new(e.At, e.Action, e.Actor, e.UserId, e.SessionId, e.Reason, e.ClientKind, e.DeviceId, e.Model, e.SeatLimit, e.ReservedUsers, e.FromConfiguration, e.MaxSessionsPerUser, e.Enforcement);
}

/// <summary>A page of audit entries, newest first.</summary>
[JsonNumberHandling(JsonNumberHandling.Strict)]
public sealed record AuditListResponse(
    IReadOnlyList<AuditEntryResponse> Entries,
    [property: Description("Pass as ?cursor= (with the same since) to get older entries; null when there are no more.")] string? NextCursor);

/// <summary>One UTC day of the usage ledger.</summary>
[JsonNumberHandling(JsonNumberHandling.Strict)]
public sealed record UsageDayResponse(DateOnly Date, int PeakSessions, int PeakActiveUsers);

/// <summary>The usage ledger between two UTC days (inclusive). Days with no recorded admission or change are omitted.</summary>
[JsonNumberHandling(JsonNumberHandling.Strict)]
public sealed record UsageResponse(string Tenant, DateOnly From, DateOnly To, IReadOnlyList<UsageDayResponse> Days);

/// <summary>One tenant in the operator's list.</summary>
[JsonNumberHandling(JsonNumberHandling.Strict)]
public sealed record TenantSummaryResponse(
    string Tenant,
    [property: JsonConverter(typeof(ExactEnumConverter<LicenseModel>))] LicenseModel Model,
    int SeatLimit,
    [property: Description("Number of active users.")] int ActiveUsers,
    [property: Description("Number of live sessions.")] int ActiveSessions,
    [property: Description("enforce or shadow: the plan's own value, else Licensing:Tenants:{tenant}:Enforcement, else Licensing:Enforcement."), AllowedValues(EnforcementModeNames.Enforce, EnforcementModeNames.Shadow)] string Enforcement);

/// <summary>A page of tenants, in ordinal order of their ids.</summary>
[JsonNumberHandling(JsonNumberHandling.Strict)]
public sealed record TenantListResponse(
    IReadOnlyList<TenantSummaryResponse> Tenants,
    [property: Description("Pass as ?cursor= to get the next page; null when there are no more tenants.")] string? NextCursor);
