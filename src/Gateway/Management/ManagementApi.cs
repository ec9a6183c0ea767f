using System.Buffers.Text;
using System.ComponentModel;
using System.Globalization;
using System.Text;
using Gateway.Licensing.Identity;
using Gateway.Licensing.Options;
using Gateway.Licensing.Results;
using Gateway.Licensing.Rules;
using Gateway.Licensing.Sessions;
using Gateway.Licensing.Store;
using Gateway.Problems;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace Gateway.Management;

/// <summary>
/// The v1 management API (docs/management-api.md): tenants, users, sessions, audit trail, usage ledger and the
/// caller's own sessions. Every change is one atomic store script (<see cref="LicenseStore"/>), which
/// also makes this replica forget the sessions it ended before the answer is written.
/// </summary>
public static class ManagementApi
{
    /// <summary>Default page size of the lists.</summary>
    public const int DefaultPageSize = 100;

    /// <summary>Most users one <c>PATCH .../users</c> may change.</summary>
    public const int MaxBulkUsers = 10_000;

    /// <summary>Default span of the usage report, in days, ending today (UTC).</summary>
    public const int DefaultUsageDays = 30;

    /// <summary>
    /// Maps every <c>{managementPath}/v1/...</c> route on a route group that requires an
    /// authenticated caller (the default authentication scheme: the host's JwtBearer). Roles and
    /// tenant isolation are checked per route. Needs <see cref="ManagementServiceCollectionExtensions.AddLicensingManagementApi"/>
    /// and the licensing engine. When <c>Licensing:ManagementPort</c> is set, the tenant routes answer
    /// only on that local port (404 elsewhere); <c>/v1/me</c> answers on every port.
    /// </summary>
    /// <returns>The <c>{managementPath}/v1</c> group, for further conventions.</returns>
    public static RouteGroupBuilder MapLicensingManagementApi(this IEndpointRouteBuilder endpoints, string managementPath)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentException.ThrowIfNullOrEmpty(managementPath);

        var v1 = endpoints.MapGroup(managementPath.TrimEnd('/') + "/v1")
            .RequireAuthorization()
            .WithGroupName(ManagementServiceCollectionExtensions.DocumentName);
        MapManagementRoutes(v1, endpointNamePrefix: "");
        return v1;
    }

    /// <summary>
    /// Maps the v1 routes on <paramref name="v1"/>, which decides who is authenticated and how (the
    /// bearer token for <c>{managementPath}/v1</c>, the console's sign-in for its copy of the API). Roles,
    /// tenant isolation and every other rule are the routes' own, the same on every group.
    /// </summary>
    /// <param name="endpointNamePrefix">Prefixed to every endpoint name: names are unique across the application.</param>
    internal static void MapManagementRoutes(RouteGroupBuilder v1, string endpointNamePrefix)
    {
        v1.AddEndpointFilter(ManagementFilter)
            .ProblemCodes(StatusCodes.Status503ServiceUnavailable, ProblemCodes.StoreUnavailable)
            .AddEndpointFilter(Problems.WrittenByGatewayWriter);

        var tenants = v1.MapGroup("/tenants/{tenant}")
            .WithTags("Tenants")
            .RequireManagementPort()
            .ProblemCodes(StatusCodes.Status403Forbidden, ProblemCodes.Forbidden)
            .ProblemCodes(StatusCodes.Status404NotFound, ProblemCodes.TenantNotFound);

        tenants.MapGet("", GetTenantAsync)
            .WithName(endpointNamePrefix + "GetTenant")
            .WithSummary("Get a tenant's plan and live counts")
            .WithDescription("Admin of the tenant or operator. activeUsers and activeSessions are counts, reservedUsers a list.")
            .ProblemCodes(StatusCodes.Status400BadRequest, ProblemCodes.InvalidRequest);

        tenants.MapPut("", PutTenantAsync)
            .WithName(endpointNamePrefix + "PutTenant")
            .WithSummary("Create or change a tenant's plan")
            .WithDescription("Operator only. Answers 201 when it created the tenant, else 200. Sessions above the new cap end at once (reason revoked): sessions of users who may no longer hold one first, then borrowed ones, then the least recently used, a reserved user's own session only when nothing else is left. A user's sessions above the per-user limit end too (least recently used first). Without maxSessionsPerUser the tenant follows Licensing:MaxSessionsPerUser. With enforcement shadow (the plan's, else the configured one) nothing ends; switching back to enforce ends sessions by the same rules.")
            .JsonBody<PlanRequest>()
            .ProblemCodes(StatusCodes.Status400BadRequest, ProblemCodes.InvalidRequest)
            .ProblemCodes(StatusCodes.Status409Conflict, ProblemCodes.SeatLimitBelowActiveUsers, ProblemCodes.PlanManagedByConfig)
            .ProblemCodes(StatusCodes.Status503ServiceUnavailable, ProblemCodes.StoreNotDurable);

        v1.MapTenantList(endpointNamePrefix);

        tenants.MapGet("/users", ListUsersAsync)
            .WithCsv()
            .WithName(endpointNamePrefix + "ListUsers")
            .WithSummary("List a tenant's users, page by page")
            .WithDescription("Admin of the tenant or operator. Users in ordinal order of their ids; follow nextCursor until it is null. Each user present for the whole walk is listed exactly once, whatever changes meanwhile.")
            .ProblemCodes(StatusCodes.Status400BadRequest, ProblemCodes.InvalidRequest);

        tenants.MapPatch("/users", PatchUsersAsync)
            .WithName(endpointNamePrefix + "SetUsersActive")
            .WithSummary("Activate and deactivate a list of users, all or nothing")
            .WithDescription($"Admin of the tenant or operator. For bootstrapping a tenant from the ERP's user list: either every change applies or none (409 when the result would exceed the seat limit). Each user at most once; at most {MaxBulkUsers} users.")
            .JsonBody<BulkActivationRequest>()
            .ProblemCodes(StatusCodes.Status400BadRequest, ProblemCodes.InvalidRequest)
            .ProblemCodes(StatusCodes.Status409Conflict, ProblemCodes.SeatLimitReached, ProblemCodes.UserLimitReached)
            .ProblemCodes(StatusCodes.Status503ServiceUnavailable, ProblemCodes.StoreNotDurable);

        tenants.MapPost("/users/swap", SwapUsersAsync)
            .WithName(endpointNamePrefix + "SwapUsers")
            .WithSummary("Deactivate one user and activate another in one atomic step")
            .WithDescription("Admin of the tenant or operator. No window in which a third party can take the freed seat. The deactivated user's sessions end at once.")
            .JsonBody<SwapRequest>()
            .ProblemCodes(StatusCodes.Status400BadRequest, ProblemCodes.InvalidRequest)
            .ProblemCodes(StatusCodes.Status409Conflict, ProblemCodes.SeatLimitReached, ProblemCodes.UserLimitReached)
            .ProblemCodes(StatusCodes.Status503ServiceUnavailable, ProblemCodes.StoreNotDurable);

        tenants.MapPut("/users/{userId}", PutUserAsync)
            .WithName(endpointNamePrefix + "SetUserActive")
            .WithSummary("Activate or deactivate one user")
            .WithDescription("Admin of the tenant or operator. Answers 201 when it created the user record, else 200. Deactivating ends the user's sessions at once. Percent-encode the user id (a '/' as %2F).")
            .JsonBody<UserActivationRequest>()
            .ProblemCodes(StatusCodes.Status400BadRequest, ProblemCodes.InvalidRequest)
            .ProblemCodes(StatusCodes.Status409Conflict, ProblemCodes.SeatLimitReached, ProblemCodes.UserLimitReached)
            .ProblemCodes(StatusCodes.Status503ServiceUnavailable, ProblemCodes.StoreNotDurable);

        tenants.MapGet("/sessions", ListSessionsAsync)
            .WithCsv()
            .WithName(endpointNamePrefix + "ListSessions")
            .WithSummary("List a tenant's live sessions, page by page")
            .WithDescription("Admin of the tenant or operator. Sessions in ordinal order of their ids (stable while sessions come and go: each session live for the whole walk is listed once); follow nextCursor until it is null.")
            .ProblemCodes(StatusCodes.Status400BadRequest, ProblemCodes.InvalidRequest);

        tenants.MapDelete("/sessions/{sessionId}", DeleteSessionAsync)
            .WithName(endpointNamePrefix + "EndSession")
            .WithSummary("End a session")
            .WithDescription("Admin of the tenant or operator. The seat is free at once; the client's next request is treated as a new session.")
            .ProblemCodes(StatusCodes.Status400BadRequest, ProblemCodes.InvalidRequest)
            .ProblemCodes(StatusCodes.Status404NotFound, ProblemCodes.SessionNotFound)
            .ProblemCodes(StatusCodes.Status503ServiceUnavailable, ProblemCodes.StoreNotDurable);

        tenants.MapGet("/audit", ListAuditAsync)
            .WithCsv()
            .WithName(endpointNamePrefix + "ListAudit")
            .WithSummary("Read the tenant's audit trail, newest first")
            .WithDescription("Admin of the tenant or operator. Admin changes and session activity (starts, ends, preemptions, sharing, first sightings), merged newest first and timed by the store clock. Each of the two is capped on its own (Licensing:AuditCapacity entries each per tenant), so session churn never evicts admin changes.")
            .ProblemCodes(StatusCodes.Status400BadRequest, ProblemCodes.InvalidRequest);

        tenants.MapGet("/usage", GetUsageAsync)
            .WithCsv()
            .WithName(endpointNamePrefix + "GetUsage")
            .WithSummary("Read the usage ledger: per UTC day, peak concurrent sessions and active users")
            .WithDescription($"Admin of the tenant or operator. Kept for {LicenseStore.UsageRetentionDays} days. Defaults: the last {DefaultUsageDays} days up to today (UTC). Days with no recorded admission or change are omitted.")
            .ProblemCodes(StatusCodes.Status400BadRequest, ProblemCodes.InvalidRequest);

        var me = v1.MapGroup("/me").WithTags("Me")
            .ProblemCodes(StatusCodes.Status400BadRequest, ProblemCodes.InvalidRequest, ProblemCodes.InvalidIdentity)
            .ProblemCodes(StatusCodes.Status403Forbidden, ProblemCodes.IdentityIncomplete);

        me.MapGet("/sessions", ListMySessionsAsync)
            .WithName(endpointNamePrefix + "ListMySessions")
            .WithSummary("List the caller's own live sessions")
            .WithDescription("Any authenticated user, about their own sessions only (tenant and user of the token).");

        me.MapDelete("/sessions/{sessionId}", DeleteMySessionAsync)
            .WithName(endpointNamePrefix + "EndMySession")
            .WithSummary("End one of the caller's own sessions")
            .WithDescription("Any authenticated user. sessionId 'current' ends the session of this very request (the one the proxy would use for it).")
            .ProblemCodes(StatusCodes.Status404NotFound, ProblemCodes.SessionNotFound)
            .ProblemCodes(StatusCodes.Status503ServiceUnavailable, ProblemCodes.StoreNotDurable);

    }

    // ---- tenants ------------------------------------------------------------------------------

    private static async Task<Results<Ok<TenantResponse>, ProblemHttpResult>> GetTenantAsync(
        string tenant, HttpContext context, [FromServices] LicenseStore store, [FromServices] IOptionsMonitor<LicensingOptions> options)
    {
        if (Authorize(context, options, tenant) is { } denied) return denied;
        var snapshot = await store.GetTenantAsync(tenant).ConfigureAwait(false);
        if (snapshot is null) return Problems.TenantNotFound(tenant);
        return TypedResults.Ok(ToResponse(snapshot, options.CurrentValue));
    }

    private static async Task<Results<Ok<TenantResponse>, Created<TenantResponse>, ProblemHttpResult>> PutTenantAsync(
        string tenant, HttpContext context, [FromServices] LicenseStore store, [FromServices] IOptionsMonitor<LicensingOptions> options)
    {
        if (Authorize(context, options, tenant, operatorOnly: true) is { } denied) return denied;
        var (body, error) = await ManagementJson.ReadAsync<PlanRequest>(context.Request, context.RequestAborted).ConfigureAwait(false);
        if (error is not null) return error;

        if (!TryParseModel(body!.Model, out var model))
            return Problems.Invalid("model must be RegisteredUsers or ConcurrentSessions.");
        if (body.SeatLimit is < 1 or > TenantPlan.MaxSeatLimit)
            return Problems.Invalid($"seatLimit must be between 1 and {TenantPlan.MaxSeatLimit}.");
        var reserved = body.ReservedUsers ?? [];
        if (CheckUserIds(reserved, "reservedUsers") is { } bad) return bad;
        if (reserved.Count > body.SeatLimit)
            return Problems.Invalid("reservedUsers must not name more users than seatLimit.");
        if (body.MaxSessionsPerUser is < 0 or > TenantPlan.MaxSeatLimit)
            return Problems.Invalid($"maxSessionsPerUser must be between 0 (no limit) and {TenantPlan.MaxSeatLimit}.");

        EnforcementMode? enforcement = null;
        if (body.Enforcement is not null)
        {
            if (!EnforcementModeNames.TryParse(body.Enforcement, out var mode))
                return Problems.Invalid("enforcement must be enforce or shadow.");
            enforcement = mode;
        }

        var caller = Caller(context, options);
        var plan = new TenantPlan(model, body.SeatLimit, reserved) { MaxSessionsPerUser = body.MaxSessionsPerUser, Enforcement = enforcement };
        var result = await store.SetPlanAsync(tenant, plan, fromConfiguration: false, caller.ActorFor(tenant), durable: true).ConfigureAwait(false);
        switch (result.Status)
        {
            case PlanChangeStatus.ManagedByConfig:
                return Problems.Create(StatusCodes.Status409Conflict, ProblemCodes.PlanManagedByConfig, "Plan managed by configuration",
                    $"The plan of '{tenant}' comes from Licensing:Tenants:{tenant} and is applied at every start; change it there. Its users are managed through this API as usual.");
            case PlanChangeStatus.SeatLimitBelowActiveUsers:
                return Problems.Create(StatusCodes.Status409Conflict, ProblemCodes.SeatLimitBelowActiveUsers, "Seat limit below active users",
                    $"{result.ActiveUsers} users are active; deactivate users down to {body.SeatLimit} first.",
                    new Dictionary<string, object?> { ["activeUsers"] = result.ActiveUsers, ["seatLimit"] = body.SeatLimit });
        }

        AdminChanges(context).PlanChanged(caller.ActorFor(tenant), tenant, model.ToString(), body.SeatLimit, result.EndedSessionIds.Count);
        var snapshot = await store.GetTenantAsync(tenant).ConfigureAwait(false);
        if (snapshot is null) return Problems.TenantNotFound(tenant);
        var response = ToResponse(snapshot, options.CurrentValue);
        return result.Status == PlanChangeStatus.Created
            ? TypedResults.Created(Location(context), response)
            : TypedResults.Ok(response);
    }

    // ---- users --------------------------------------------------------------------------------

    private static async Task<Results<Ok<UserListResponse>, ProblemHttpResult>> ListUsersAsync(
        string tenant,
        HttpContext context,
        [FromQuery, Description("true: active users only; false: inactive users only; omitted: all.")] string? active,
        [FromQuery, Description("Page size, 1 to 1000; default 100.")] string? limit,
        [FromQuery, Description("nextCursor of the previous page.")] string? cursor,
        [FromServices] LicenseStore store,
        [FromServices] LicenseQueries queries,
        [FromServices] IOptionsMonitor<LicensingOptions> options)
    {
        if (Authorize(context, options, tenant) is { } denied) return denied;
        bool? filter = null;
        if (active is not null)
        {
            if (active == "true") filter = true;
            else if (active == "false") filter = false;
            else return Problems.Invalid("active must be true or false.");
        }
        if (ParseLimit(limit, out var size) is { } badLimit) return badLimit;
        string? after = null;
        if (cursor is not null && (!TryDecodeCursor(cursor, out after) || !IdentityRules.IsValidId(after)))
            return Problems.Invalid("cursor is not a cursor this API returned.");

        if (await store.GetTenantAsync(tenant).ConfigureAwait(false) is null) return Problems.TenantNotFound(tenant);
        var page = await queries.ListUsersAsync(tenant, filter, after, size).ConfigureAwait(false);
        return TypedResults.Ok(new UserListResponse(
            page.Users.Select(UserResponse.From).ToArray(),
            page.NextAfter is null ? null : EncodeCursor(page.NextAfter)));
    }

    private static async Task<Results<Ok<UserStateResponse>, Created<UserStateResponse>, ProblemHttpResult>> PutUserAsync(
        string tenant, string userId, HttpContext context, [FromServices] LicenseStore store, [FromServices] IOptionsMonitor<LicensingOptions> options)
    {
        if (Authorize(context, options, tenant) is { } denied) return denied;
        var user = RawLastSegment(context) ?? userId;
        if (!IsSameSegment(userId, user))
            return Problems.Invalid("The user id must be the last path segment, percent-encoded, without dot segments ('.', '..') after it.");
        if (!IdentityRules.IsValidId(user)) return Problems.Invalid("The user id must be 1-128 printable ASCII characters.");
        var (body, error) = await ManagementJson.ReadAsync<UserActivationRequest>(context.Request, context.RequestAborted).ConfigureAwait(false);
        if (error is not null) return error;

        var actor = Caller(context, options).ActorFor(tenant);
        var result = await store.SetUserActiveAsync(tenant, user, body!.Active, actor, durable: true).ConfigureAwait(false);
        if (result.Status is ActivationStatus.Created or ActivationStatus.Updated)
            AdminChanges(context).UserActivation(actor, tenant, user, result.Active, result.EndedSessionIds.Count);
        switch (result.Status)
        {
            case ActivationStatus.TenantUnlicensed:
                return Problems.TenantNotFound(tenant);
            case ActivationStatus.SeatLimitReached:
                return Problems.SeatLimitReached(await SeatLimitAsync(store, tenant).ConfigureAwait(false));
            case ActivationStatus.UserLimitReached:
                return Problems.UserLimitReached(options.CurrentValue.MaxUsersPerTenant);
            case ActivationStatus.Created:
                return TypedResults.Created(Location(context), new UserStateResponse(user, result.Active));
            default:
                return TypedResults.Ok(new UserStateResponse(user, result.Active));
        }
    }

    private static async Task<Results<Ok<BulkActivationResponse>, ProblemHttpResult>> PatchUsersAsync(
        string tenant, HttpContext context, [FromServices] LicenseStore store, [FromServices] IOptionsMonitor<LicensingOptions> options)
    {
        if (Authorize(context, options, tenant) is { } denied) return denied;
        var (body, error) = await ManagementJson.ReadAsync<BulkActivationRequest>(context.Request, context.RequestAborted).ConfigureAwait(false);
        if (error is not null) return error;
        var items = body!.Users;
        if (items.Count > MaxBulkUsers) return Problems.Invalid($"users must list at most {MaxBulkUsers} users.");
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var changes = new List<(string User, bool Active)>(items.Count);
        for (var i = 0; i < items.Count; i++)
        {
            var item = items[i];
            if (item is null) return Problems.Invalid($"users[{i}] must be an object {{userId, active}}.");
            if (item.UserId is null || !IdentityRules.IsValidId(item.UserId))
                return Problems.Invalid($"users[{i}].userId must be 1-128 printable ASCII characters.");
            if (!seen.Add(item.UserId)) return Problems.Invalid($"users[{i}].userId names a user listed before; list each user once.");
            changes.Add((item.UserId, item.Active));
        }

        var actor = Caller(context, options).ActorFor(tenant);
        var result = await store.SetUsersActiveAsync(tenant, changes, actor, durable: true).ConfigureAwait(false);
        if (result.Status == ActivationStatus.Updated) AdminChanges(context).BulkActivation(actor, tenant, changes, result.EndedSessionIds.Count);
        return result.Status switch
        {
            ActivationStatus.TenantUnlicensed => Problems.TenantNotFound(tenant),
            ActivationStatus.SeatLimitReached => Problems.Create(StatusCodes.Status409Conflict, ProblemCodes.SeatLimitReached, "Seat limit reached",
                "Nothing was changed: the list would leave more users active than the plan's seat limit.",
                new Dictionary<string, object?> { ["activeUsers"] = result.ActiveUsers, ["seatLimit"] = await SeatLimitAsync(store, tenant).ConfigureAwait(false) }),
            ActivationStatus.UserLimitReached => Problems.UserLimitReached(options.CurrentValue.MaxUsersPerTenant),
            _ => TypedResults.Ok(new BulkActivationResponse(result.ActiveUsers, changes.Select(c => new UserStateResponse(c.User, c.Active)).ToArray())),
        };
    }

    private static async Task<Results<Ok<SwapResponse>, ProblemHttpResult>> SwapUsersAsync(
        string tenant, HttpContext context, [FromServices] LicenseStore store, [FromServices] IOptionsMonitor<LicensingOptions> options)
    {
        if (Authorize(context, options, tenant) is { } denied) return denied;
        var (body, error) = await ManagementJson.ReadAsync<SwapRequest>(context.Request, context.RequestAborted).ConfigureAwait(false);
        if (error is not null) return error;
        if (!IdentityRules.IsValidId(body!.Deactivate)) return Problems.Invalid("deactivate must be 1-128 printable ASCII characters.");
        if (!IdentityRules.IsValidId(body.Activate)) return Problems.Invalid("activate must be 1-128 printable ASCII characters.");
        if (string.Equals(body.Deactivate, body.Activate, StringComparison.Ordinal)) return Problems.Invalid("deactivate and activate must name two different users.");

        var actor = Caller(context, options).ActorFor(tenant);
        var result = await store.SwapUsersAsync(tenant, body.Deactivate, body.Activate, actor, durable: true).ConfigureAwait(false);
        if (result.Status == ActivationStatus.Updated) AdminChanges(context).UsersSwapped(actor, tenant, body.Deactivate, body.Activate, result.EndedSessionIds.Count);
        return result.Status switch
        {
            ActivationStatus.TenantUnlicensed => Problems.TenantNotFound(tenant),
            ActivationStatus.SeatLimitReached => Problems.SeatLimitReached(await SeatLimitAsync(store, tenant).ConfigureAwait(false)),
            ActivationStatus.UserLimitReached => Problems.UserLimitReached(options.CurrentValue.MaxUsersPerTenant),
            _ => TypedResults.Ok(new SwapResponse(
                new UserStateResponse(body.Deactivate, result.DeactivatedUserActive),
                new UserStateResponse(body.Activate, result.ActivatedUserActive))),
        };
    }

    // ---- sessions -----------------------------------------------------------------------------

    private static async Task<Results<Ok<SessionListResponse>, ProblemHttpResult>> ListSessionsAsync(
        string tenant,
        HttpContext context,
        [FromQuery, Description("Only the sessions of this user.")] string? userId,
        [FromQuery, Description("Page size, 1 to 1000; default 100.")] string? limit,
        [FromQuery, Description("nextCursor of the previous page.")] string? cursor,
        [FromServices] LicenseStore store,
        [FromServices] LicenseQueries queries,
        [FromServices] IOptionsMonitor<LicensingOptions> options)
    {
        if (Authorize(context, options, tenant) is { } denied) return denied;
        if (userId is not null && !IdentityRules.IsValidId(userId)) return Problems.Invalid("userId must be 1-128 printable ASCII characters.");
        if (ParseLimit(limit, out var size) is { } badLimit) return badLimit;
        if (cursor is not null && !SessionIdentity.IsWellFormedSessionId(cursor)) return Problems.Invalid("cursor is not a cursor this API returned.");

        if (await store.GetTenantAsync(tenant).ConfigureAwait(false) is null) return Problems.TenantNotFound(tenant);
        var page = await queries.ListSessionsAsync(tenant, userId, cursor, size).ConfigureAwait(false);
        return TypedResults.Ok(new SessionListResponse(page.Sessions.Select(SessionResponse.From).ToArray(), page.NextAfter));
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> DeleteSessionAsync(
        string tenant, string sessionId, HttpContext context, [FromServices] LicenseStore store, [FromServices] IOptionsMonitor<LicensingOptions> options)
    {
        if (Authorize(context, options, tenant) is { } denied) return denied;
        if (!SessionIdentity.IsWellFormedSessionId(sessionId)) return Problems.SessionNotFound();
        if (await store.GetTenantAsync(tenant).ConfigureAwait(false) is null) return Problems.TenantNotFound(tenant);
        var actor = Caller(context, options).ActorFor(tenant);
        var ended = await store.EndSessionAsync(tenant, sessionId, EndReason.Revoked, actor, durable: true).ConfigureAwait(false);
        if (ended) AdminChanges(context).SessionEnded(actor, tenant, sessionId);
        return ended ? TypedResults.NoContent() : Problems.SessionNotFound();
    }

    // ---- audit and usage ----------------------------------------------------------------------

    private static async Task<Results<Ok<AuditListResponse>, ProblemHttpResult>> ListAuditAsync(
        string tenant,
        HttpContext context,
        [FromQuery, Description("Only entries at or after this time (ISO 8601, e.g. 2025-01-31T00:00:00Z).")] string? since,
        [FromQuery, Description("Page size, 1 to 1000; default 100.")] string? limit,
        [FromQuery, Description("nextCursor of the previous page.")] string? cursor,
        [FromServices] LicenseStore store,
        [FromServices] LicenseQueries queries,
        [FromServices] IOptionsMonitor<LicensingOptions> options)
    {
        if (Authorize(context, options, tenant) is { } denied) return denied;
        DateTimeOffset? from = null;
        if (since is not null)
        {
            if (!DateTimeOffset.TryParse(since, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed)
                || parsed.ToUnixTimeMilliseconds() < 0)
                return Problems.Invalid("since must be an ISO 8601 time, e.g. 2025-01-31T00:00:00Z.");
            from = parsed;
        }
        if (ParseLimit(limit, out var size) is { } badLimit) return badLimit;
        AuditCursor? position = null;
        if (cursor is not null)
        {
            if (!TryParseAuditCursor(cursor, out var parsedCursor)) return Problems.Invalid("cursor is not a cursor this API returned.");
            position = parsedCursor;
        }

        if (await store.GetTenantAsync(tenant).ConfigureAwait(false) is null) return Problems.TenantNotFound(tenant);
        var page = await queries.ListAuditAsync(tenant, from, position, size).ConfigureAwait(false);
        return TypedResults.Ok(new AuditListResponse(
            page.Entries.Select(AuditEntryResponse.From).ToArray(),
            page.Next is { } next ? EncodeCursor(FormattableString.Invariant($"{next.AtMs}:{next.Skip}")) : null));
    }

    private static async Task<Results<Ok<UsageResponse>, ProblemHttpResult>> GetUsageAsync(
        string tenant,
        HttpContext context,
        [FromQuery, Description("First UTC day (yyyy-MM-dd), inclusive; default 29 days before 'to'.")] string? from,
        [FromQuery, Description("Last UTC day (yyyy-MM-dd), inclusive; default today (UTC).")] string? to,
        [FromServices] LicenseStore store,
        [FromServices] LicenseQueries queries,
        [FromServices] IOptionsMonitor<LicensingOptions> options,
        [FromServices] TimeProvider time)
    {
        if (Authorize(context, options, tenant) is { } denied) return denied;
        DateOnly last, first;
        if (to is null) last = DateOnly.FromDateTime(time.GetUtcNow().UtcDateTime);
        else if (!TryParseDay(to, out last)) return Problems.Invalid("to must be a day as yyyy-MM-dd.");
        if (from is null) first = last.AddDays(-(DefaultUsageDays - 1));
        else if (!TryParseDay(from, out first)) return Problems.Invalid("from must be a day as yyyy-MM-dd.");
        if (first > last) return Problems.Invalid("from must not be after to.");
        if (last.DayNumber - first.DayNumber > LicenseStore.UsageRetentionDays)
            return Problems.Invalid($"The range must span at most {LicenseStore.UsageRetentionDays + 1} days.");

        if (await store.GetTenantAsync(tenant).ConfigureAwait(false) is null) return Problems.TenantNotFound(tenant);
        var days = await queries.GetUsageAsync(tenant, first, last).ConfigureAwait(false);
        return TypedResults.Ok(new UsageResponse(tenant, first, last,
            days.Select(d => new UsageDayResponse(d.Date, d.PeakSessions, d.PeakActiveUsers)).ToArray()));
    }

    // ---- the caller's own sessions ------------------------------------------------------------

    private static async Task<Results<Ok<SessionListResponse>, ProblemHttpResult>> ListMySessionsAsync(
        HttpContext context,
        [FromQuery, Description("Page size, 1 to 1000; default 100.")] string? limit,
        [FromQuery, Description("nextCursor of the previous page.")] string? cursor,
        [FromServices] LicenseQueries queries,
        [FromServices] IOptionsMonitor<LicensingOptions> options)
    {
        var caller = Caller(context, options);
        if (OwnIdentityProblem(caller) is { } problem) return problem;
        if (ParseLimit(limit, out var size) is { } badLimit) return badLimit;
        if (cursor is not null && !SessionIdentity.IsWellFormedSessionId(cursor)) return Problems.Invalid("cursor is not a cursor this API returned.");
        var page = await queries.ListSessionsAsync(caller.Tenant!, caller.User!, cursor, size).ConfigureAwait(false);
        return TypedResults.Ok(new SessionListResponse(page.Sessions.Select(SessionResponse.From).ToArray(), page.NextAfter));
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> DeleteMySessionAsync(
        string sessionId, HttpContext context, [FromServices] LicenseStore store, [FromServices] IOptionsMonitor<LicensingOptions> options)
    {
        var caller = Caller(context, options);
        if (OwnIdentityProblem(caller) is { } problem) return problem;
        string id;
        if (sessionId == "current")
        {
            var resolver = context.RequestServices.GetService<ICurrentSessionResolver>();
            var identity = resolver?.Resolve(context);
            if (identity is not { } current
                || !string.Equals(current.Tenant, caller.Tenant, StringComparison.Ordinal)
                || !string.Equals(current.User, caller.User, StringComparison.Ordinal))
                return Problems.SessionNotFound();
            id = current.ComputeSessionId();
        }
        else if (SessionIdentity.IsWellFormedSessionId(sessionId))
        {
            id = sessionId;
        }
        else
        {
            return Problems.SessionNotFound();
        }
        var ended = await store.EndSessionAsync(caller.Tenant!, id, EndReason.Logout, caller.ActorFor(caller.Tenant!), owner: caller.User, durable: true).ConfigureAwait(false);
        return ended ? TypedResults.NoContent() : Problems.SessionNotFound();
    }

    // ---- helpers ------------------------------------------------------------------------------

    /// <summary>The Information line of an admin change (registered by <see cref="ManagementServiceCollectionExtensions.AddLicensingManagementApi"/>).</summary>
    private static AdminChangeLog AdminChanges(HttpContext context) => context.RequestServices.GetRequiredService<AdminChangeLog>();

    internal static ManagementCaller Caller(HttpContext context, IOptionsMonitor<LicensingOptions> options)
    {
        if (context.Items.TryGetValue(typeof(ManagementCaller), out var cached) && cached is ManagementCaller caller) return caller;
        caller = ManagementCaller.From(context.User, options.CurrentValue);
        context.Items[typeof(ManagementCaller)] = caller;
        return caller;
    }

    /// <summary>Roles first (403 before anything is revealed about the tenant), then the tenant id's shape.</summary>
    private static ProblemHttpResult? Authorize(HttpContext context, IOptionsMonitor<LicensingOptions> options, string tenant, bool operatorOnly = false)
    {
        var caller = Caller(context, options);
        if (operatorOnly ? !caller.IsOperator : !caller.MayAdminister(tenant)) return Problems.Forbidden();
        if (!IdentityRules.IsValidTenant(tenant)) return Problems.Invalid("The tenant id must match ^[A-Za-z0-9._-]{1,64}$.");
        return null;
    }

    private static ProblemHttpResult? OwnIdentityProblem(ManagementCaller caller)
    {
        if (caller.HasInvalidIdentity) return Problems.InvalidIdentity();
        if (caller.Tenant is null || caller.User is null) return Problems.IdentityIncomplete();
        return null;
    }

    private static ProblemHttpResult? CheckUserIds(IReadOnlyList<string> users, string member)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < users.Count; i++)
        {
            var user = users[i];
            if (user is null || !IdentityRules.IsValidId(user)) return Problems.Invalid($"{member}[{i}] must be 1-128 printable ASCII characters.");
            if (!seen.Add(user)) return Problems.Invalid($"{member}[{i}] names a user listed before; list each user once.");
        }
        return null;
    }

    private static bool TryParseModel(string? value, out LicenseModel model)
    {
        switch (value)
        {
            case nameof(LicenseModel.RegisteredUsers): model = LicenseModel.RegisteredUsers; return true;
            case nameof(LicenseModel.ConcurrentSessions): model = LicenseModel.ConcurrentSessions; return true;
            default: model = default; return false;
        }
    }

    internal static ProblemHttpResult? ParseLimit(string? value, out int limit)
    {
        limit = DefaultPageSize;
        if (value is null) return null;
        if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit is < 1 or > LicenseQueries.MaxPageSize)
            return Problems.Invalid($"limit must be an integer from 1 to {LicenseQueries.MaxPageSize}.");
        return null;
    }

    private static bool TryParseDay(string value, out DateOnly day) =>
        DateOnly.TryParseExact(value, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out day)
        && day >= DateOnly.FromDateTime(DateTime.UnixEpoch);

    internal static string EncodeCursor(string value) => Base64Url.EncodeToString(Encoding.UTF8.GetBytes(value));

    internal static bool TryDecodeCursor(string cursor, out string value)
    {
        value = "";
        if (cursor.Length is 0 or > 1024) return false;
        try
        {
            value = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(cursor));
            return true;
        }
        catch (FormatException)
        {
            return false;
        }
    }

    private static bool TryParseAuditCursor(string cursor, out AuditCursor position)
    {
        position = default;
        if (!TryDecodeCursor(cursor, out var text)) return false;
        var colon = text.IndexOf(':');
        if (colon <= 0
            || !long.TryParse(text.AsSpan(0, colon), NumberStyles.None, CultureInfo.InvariantCulture, out var at)
            || !int.TryParse(text.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var skip)) return false;
        position = new AuditCursor(at, skip);
        return true;
    }

    /// <summary>
    /// The last path segment as the client sent it, percent-decoded. Routing leaves <c>%2F</c>
    /// undecoded in a route value, so a user id holding '/' is read from the raw request target.
    /// </summary>
    private static string? RawLastSegment(HttpContext context)
    {
        var raw = context.Features.Get<IHttpRequestFeature>()?.RawTarget;
        if (string.IsNullOrEmpty(raw) || raw[0] != '/') return null;
        var query = raw.IndexOf('?');
        if (query >= 0) raw = raw[..query];
        if (raw.Length > 1 && raw[^1] == '/') raw = raw[..^1];
        var segment = raw[(raw.LastIndexOf('/') + 1)..];
        try
        {
            return Uri.UnescapeDataString(segment);
        }
        catch (UriFormatException)
        {
            return null;
        }
    }

    /// <summary>
    /// Whether the raw last segment is the one routing matched: routing sees the path after the server
    /// removed dot segments, so for <c>.../users/bob/.</c> it matched <c>bob</c> while the raw last
    /// segment is <c>.</c>. Routing keeps <c>%2F</c> encoded, the raw segment is fully decoded.
    /// </summary>
    private static bool IsSameSegment(string routed, string raw) =>
        string.Equals(routed, raw, StringComparison.Ordinal)
        || string.Equals(routed.Replace("%2F", "/", StringComparison.OrdinalIgnoreCase), raw, StringComparison.Ordinal);

    private static string Location(HttpContext context) => context.Request.PathBase.Add(context.Request.Path).ToUriComponent();

    private static async Task<int> SeatLimitAsync(LicenseStore store, string tenant) =>
        (await store.GetTenantAsync(tenant).ConfigureAwait(false))?.SeatLimit ?? 0;

    private static TenantResponse ToResponse(TenantSnapshot s, LicensingOptions options) =>
        new(s.Tenant, s.Model, s.SeatLimit, s.ActiveUsers, s.ActiveSessions, s.ReservedUsers, (int)Math.Ceiling(options.IdleTimeout.TotalSeconds),
            s.MaxSessionsPerUser ?? options.MaxSessionsPerUser, EffectiveEnforcement(s, options));

    /// <summary>The tenant's enforcement: the plan's own, else its configuration entry's, else the gateway's.</summary>
    internal static string EffectiveEnforcement(TenantSnapshot s, LicensingOptions options) =>
        (s.Enforcement ?? options.DefaultEnforcementFor(s.Tenant)).ToName();

    /// <summary>No answer of the API is cached; a store outage is a 503 problem with Retry-After.</summary>
    private static async ValueTask<object?> ManagementFilter(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        context.HttpContext.Response.Headers.CacheControl = "no-store";
        try
        {
            return await next(context).ConfigureAwait(false);
        }
        catch (StoreUnavailableException)
        {
            context.HttpContext.Response.Headers.RetryAfter = LicensingProblems.StoreRetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
            return Problems.StoreUnavailable();
        }
        catch (StoreNotDurableException)
        {
            return Problems.StoreNotDurable();
        }
    }
}
