using Gateway.Licensing.Results;
using Gateway.Licensing.Options;
using Gateway.Licensing.Store;
using Gateway.Problems;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace Gateway.Management;

/// <summary>
/// The route table of the v1 management API (docs/management-api.md): tenants, users, sessions, audit trail,
/// usage ledger and the caller's own sessions, each resource's handlers in a class of its own
/// (<see cref="TenantHandlers"/>, <see cref="UserHandlers"/>, <see cref="SessionHandlers"/>,
/// <see cref="AuditHandlers"/>, <see cref="UsageHandlers"/>, <see cref="MySessionHandlers"/>). Every change is one atomic store script (<see cref="LicenseStore"/>), which
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
    /// tenant isolation of the tenant routes are checked by <see cref="TenantRouteFilter"/>. Needs <see cref="ManagementServiceCollectionExtensions.AddLicensingManagementApi"/>
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
            .ProblemCodes(StatusCodes.Status404NotFound, ProblemCodes.TenantNotFound)
            .AddEndpointFilter(TenantRouteFilter.InvokeAsync);

        tenants.MapGet("", TenantHandlers.Get)
            .RequiresPlan()
            .WithName(endpointNamePrefix + "GetTenant")
            .WithSummary("Get a tenant's plan and live counts")
            .WithDescription("Admin of the tenant or operator. activeUsers and activeSessions are counts, reservedUsers a list.")
            .ProblemCodes(StatusCodes.Status400BadRequest, ProblemCodes.InvalidRequest);

        tenants.MapPut("", TenantHandlers.PutAsync)
            .OperatorOnly()
            .WithName(endpointNamePrefix + "PutTenant")
            .WithSummary("Create or change a tenant's plan")
            .WithDescription("Operator only. Answers 201 when it created the tenant, else 200. Sessions above the new cap end at once (reason revoked): sessions of users who may no longer hold one first, then borrowed ones, then the least recently used, a reserved user's own session only when nothing else is left. A user's sessions above the per-user limit end too (least recently used first). Without maxSessionsPerUser the tenant follows Licensing:MaxSessionsPerUser. With enforcement shadow (the plan's, else the configured one) nothing ends; switching back to enforce ends sessions by the same rules.")
            .JsonBody<PlanRequest>()
            .ProblemCodes(StatusCodes.Status400BadRequest, ProblemCodes.InvalidRequest)
            .ProblemCodes(StatusCodes.Status409Conflict, ProblemCodes.SeatLimitBelowActiveUsers, ProblemCodes.PlanManagedByConfig)
            .ProblemCodes(StatusCodes.Status503ServiceUnavailable, ProblemCodes.StoreNotDurable);

        v1.MapGet("/tenants", TenantHandlers.ListAsync)
            .WithTags("Tenants")
            .RequireManagementPort()
            .WithCsv()
            .WithName(endpointNamePrefix + "ListTenants")
            .WithSummary("List every tenant with its plan and live counts, page by page")
            .WithDescription("Operator only. Tenants in ordinal order of their ids; follow nextCursor until it is null.")
            .ProblemCodes(StatusCodes.Status400BadRequest, ProblemCodes.InvalidRequest)
            .ProblemCodes(StatusCodes.Status403Forbidden, ProblemCodes.Forbidden);

        tenants.MapGet("/users", UserHandlers.ListAsync)
            .RequiresPlan()
            .WithCsv()
            .WithName(endpointNamePrefix + "ListUsers")
            .WithSummary("List a tenant's users, page by page")
            .WithDescription("Admin of the tenant or operator. Users in ordinal order of their ids; follow nextCursor until it is null. Each user present for the whole walk is listed exactly once, whatever changes meanwhile.")
            .ProblemCodes(StatusCodes.Status400BadRequest, ProblemCodes.InvalidRequest);

        tenants.MapPatch("/users", UserHandlers.PatchAsync)
            .WithName(endpointNamePrefix + "SetUsersActive")
            .WithSummary("Activate and deactivate a list of users, all or nothing")
            .WithDescription($"Admin of the tenant or operator. For bootstrapping a tenant from the ERP's user list: either every change applies or none (409 when the result would exceed the seat limit). Each user at most once; at most {MaxBulkUsers} users.")
            .JsonBody<BulkActivationRequest>()
            .ProblemCodes(StatusCodes.Status400BadRequest, ProblemCodes.InvalidRequest)
            .ProblemCodes(StatusCodes.Status409Conflict, ProblemCodes.SeatLimitReached, ProblemCodes.UserLimitReached)
            .ProblemCodes(StatusCodes.Status503ServiceUnavailable, ProblemCodes.StoreNotDurable);

        tenants.MapPost("/users/swap", UserHandlers.SwapAsync)
            .WithName(endpointNamePrefix + "SwapUsers")
            .WithSummary("Deactivate one user and activate another in one atomic step")
            .WithDescription("Admin of the tenant or operator. No window in which a third party can take the freed seat. The deactivated user's sessions end at once.")
            .JsonBody<SwapRequest>()
            .ProblemCodes(StatusCodes.Status400BadRequest, ProblemCodes.InvalidRequest)
            .ProblemCodes(StatusCodes.Status409Conflict, ProblemCodes.SeatLimitReached, ProblemCodes.UserLimitReached)
            .ProblemCodes(StatusCodes.Status503ServiceUnavailable, ProblemCodes.StoreNotDurable);

        tenants.MapPut("/users/{userId}", UserHandlers.PutAsync)
            .WithName(endpointNamePrefix + "SetUserActive")
            .WithSummary("Activate or deactivate one user")
            .WithDescription("Admin of the tenant or operator. Answers 201 when it created the user record, else 200. Deactivating ends the user's sessions at once. Percent-encode the user id (a '/' as %2F).")
            .JsonBody<UserActivationRequest>()
            .ProblemCodes(StatusCodes.Status400BadRequest, ProblemCodes.InvalidRequest)
            .ProblemCodes(StatusCodes.Status409Conflict, ProblemCodes.SeatLimitReached, ProblemCodes.UserLimitReached)
            .ProblemCodes(StatusCodes.Status503ServiceUnavailable, ProblemCodes.StoreNotDurable);

        tenants.MapGet("/sessions", SessionHandlers.ListAsync)
            .RequiresPlan()
            .WithCsv()
            .WithName(endpointNamePrefix + "ListSessions")
            .WithSummary("List a tenant's live sessions, page by page")
            .WithDescription("Admin of the tenant or operator. Sessions in ordinal order of their ids (stable while sessions come and go: each session live for the whole walk is listed once); follow nextCursor until it is null.")
            .ProblemCodes(StatusCodes.Status400BadRequest, ProblemCodes.InvalidRequest);

        tenants.MapDelete("/sessions/{sessionId}", SessionHandlers.DeleteAsync)
            .RequiresPlan()
            .WithName(endpointNamePrefix + "EndSession")
            .WithSummary("End a session")
            .WithDescription("Admin of the tenant or operator. The seat is free at once; the client's next request is treated as a new session.")
            .ProblemCodes(StatusCodes.Status400BadRequest, ProblemCodes.InvalidRequest)
            .ProblemCodes(StatusCodes.Status404NotFound, ProblemCodes.SessionNotFound)
            .ProblemCodes(StatusCodes.Status503ServiceUnavailable, ProblemCodes.StoreNotDurable);

        tenants.MapGet("/audit", AuditHandlers.ListAsync)
            .RequiresPlan()
            .WithCsv()
            .WithName(endpointNamePrefix + "ListAudit")
            .WithSummary("Read the tenant's audit trail, newest first")
            .WithDescription("Admin of the tenant or operator. Admin changes and session activity (starts, ends, preemptions, sharing, first sightings), merged newest first and timed by the store clock. Each of the two is capped on its own (Licensing:AuditCapacity entries each per tenant), so session churn never evicts admin changes.")
            .ProblemCodes(StatusCodes.Status400BadRequest, ProblemCodes.InvalidRequest);

        tenants.MapGet("/usage", UsageHandlers.GetAsync)
            .RequiresPlan()
            .WithCsv()
            .WithName(endpointNamePrefix + "GetUsage")
            .WithSummary("Read the usage ledger: per UTC day, peak concurrent sessions and active users")
            .WithDescription($"Admin of the tenant or operator. Kept for {LicenseStore.UsageRetentionDays} days. Defaults: the last {DefaultUsageDays} days up to today (UTC). Days with no recorded admission or change are omitted.")
            .ProblemCodes(StatusCodes.Status400BadRequest, ProblemCodes.InvalidRequest);

        var me = v1.MapGroup("/me").WithTags("Me")
            .ProblemCodes(StatusCodes.Status400BadRequest, ProblemCodes.InvalidRequest, ProblemCodes.InvalidIdentity)
            .ProblemCodes(StatusCodes.Status403Forbidden, ProblemCodes.IdentityIncomplete);

        me.MapGet("/sessions", MySessionHandlers.ListAsync)
            .WithName(endpointNamePrefix + "ListMySessions")
            .WithSummary("List the caller's own live sessions")
            .WithDescription("Any authenticated user, about their own sessions only (tenant and user of the token).");

        me.MapDelete("/sessions/{sessionId}", MySessionHandlers.DeleteAsync)
            .WithName(endpointNamePrefix + "EndMySession")
            .WithSummary("End one of the caller's own sessions")
            .WithDescription("Any authenticated user. sessionId 'current' ends the session of this very request (the one the proxy would use for it).")
            .ProblemCodes(StatusCodes.Status404NotFound, ProblemCodes.SessionNotFound)
            .ProblemCodes(StatusCodes.Status503ServiceUnavailable, ProblemCodes.StoreNotDurable);

    }

    // ---- shared by the handlers ----------------------------------------------------------------

    /// <summary>The Information line of an admin change (registered by <see cref="ManagementServiceCollectionExtensions.AddLicensingManagementApi"/>).</summary>
    internal static AdminChangeLog AdminChanges(HttpContext context) => context.RequestServices.GetRequiredService<AdminChangeLog>();

    /// <summary>The caller of this request, read from its claims once.</summary>
    internal static ManagementCaller Caller(HttpContext context, IOptionsMonitor<LicensingOptions> options)
    {
        if (context.Items.TryGetValue(typeof(ManagementCaller), out var cached) && cached is ManagementCaller caller) return caller;
        caller = ManagementCaller.From(context.User, options.CurrentValue);
        context.Items[typeof(ManagementCaller)] = caller;
        return caller;
    }

    /// <summary>The request's own URL, for the Location of a created resource.</summary>
    internal static string Location(HttpContext context) => context.Request.PathBase.Add(context.Request.Path).ToUriComponent();

    /// <summary>
    /// No answer of the API is cached, and the lists that can answer CSV say that the answer varies by
    /// Accept (whatever the answer turns out to be); a store outage is a 503 problem with Retry-After.
    /// </summary>
    private static async ValueTask<object?> ManagementFilter(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        http.Response.Headers.CacheControl = "no-store";
        if (http.GetEndpoint()?.Metadata.GetMetadata<CsvMetadata>() is not null) http.Response.Headers.Append(HeaderNames.Vary, HeaderNames.Accept);
        try
        {
            return await next(context).ConfigureAwait(false);
        }
        catch (StoreUnavailableException)
        {
            ProblemResponse.SetRetryAfter(http, LicensingProblems.StoreRetryAfter);
            return Problems.StoreUnavailable();
        }
        catch (StoreNotDurableException)
        {
            return Problems.StoreNotDurable();
        }
    }
}
