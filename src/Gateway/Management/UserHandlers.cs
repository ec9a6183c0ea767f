using Gateway.Licensing.Results;
using System.ComponentModel;
using Gateway.Licensing.Identity;
using Gateway.Licensing.Options;
using Gateway.Licensing.Store;
using Gateway.Problems;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace Gateway.Management;

/// <summary>
/// <c>/tenants/{tenant}/users</c>: the user list, and activating and deactivating users (one, a list all
/// or nothing, or a swap). Roles and the tenant id are checked by <see cref="TenantRouteFilter"/>; a change
/// for a tenant without a plan is refused by its store script (404).
/// </summary>
internal static class UserHandlers
{
    /// <summary><c>?active=</c> of the user list.</summary>
    internal sealed record ActiveFilter(
        [property: FromQuery(Name = "active"), Description("true: active users only; false: inactive users only; omitted: all.")] string? Active) : IRequestCheck
    {
        /// <summary>Null: every user.</summary>
        public bool? Value => Active switch { "true" => true, "false" => false, _ => null };

        public ProblemHttpResult? Check(HttpContext context) =>
            Active is null or "true" or "false" ? null : Problems.Invalid("active must be true or false.");
    }

    public static async Task<Results<Ok<UserListResponse>, ProblemHttpResult>> ListAsync(
        string tenant,
        [AsParameters] ActiveFilter filter,
        [AsParameters] PageQuery<UserCursor> page,
        [FromServices] LicenseQueries queries)
    {
        var users = await queries.ListUsersAsync(tenant, filter.Value, page.After?.User, page.Size).ConfigureAwait(false);
        return TypedResults.Ok(new UserListResponse(
            users.Users.Select(UserResponse.From).ToArray(),
            users.NextAfter is null ? null : UserCursor.Encode(users.NextAfter)));
    }

    public static async Task<Results<Ok<UserStateResponse>, Created<UserStateResponse>, ProblemHttpResult>> PutAsync(
        string tenant, string userId, HttpContext context, [FromServices] LicenseStore store, [FromServices] IOptionsMonitor<LicensingOptions> options)
    {
        var user = RawLastSegment(context) ?? userId;
        if (!IsSameSegment(userId, user))
            return Problems.Invalid("The user id must be the last path segment, percent-encoded, without dot segments ('.', '..') after it.");
        if (!IdentityRules.IsValidId(user)) return Problems.Invalid("The user id must be 1-128 printable ASCII characters.");
        var (body, error) = await ManagementJson.ReadAsync<UserActivationRequest>(context.Request, context.RequestAborted).ConfigureAwait(false);
        if (error is not null) return error;

        var actor = ManagementApi.Caller(context, options).ActorFor(tenant);
        var result = await store.SetUserActiveAsync(tenant, user, body!.Active, actor, durable: true).ConfigureAwait(false);
        if (result.Status is ActivationStatus.Created or ActivationStatus.Updated)
            ManagementApi.AdminChanges(context).UserActivation(actor, tenant, user, result.Active, result.EndedSessionIds.Count);
        switch (result.Status)
        {
            case ActivationStatus.TenantUnlicensed:
                return Problems.TenantNotFound(tenant);
            case ActivationStatus.SeatLimitReached:
                return Problems.SeatLimitReached(await SeatLimitAsync(store, tenant).ConfigureAwait(false));
            case ActivationStatus.UserLimitReached:
                return Problems.UserLimitReached(options.CurrentValue.MaxUsersPerTenant);
            case ActivationStatus.Created:
                return TypedResults.Created(ManagementApi.Location(context), new UserStateResponse(user, result.Active));
            default:
                return TypedResults.Ok(new UserStateResponse(user, result.Active));
        }
    }

    public static async Task<Results<Ok<BulkActivationResponse>, ProblemHttpResult>> PatchAsync(
        string tenant, HttpContext context, [FromServices] LicenseStore store, [FromServices] IOptionsMonitor<LicensingOptions> options)
    {
        var (body, error) = await ManagementJson.ReadAsync<BulkActivationRequest>(context.Request, context.RequestAborted).ConfigureAwait(false);
        if (error is not null) return error;
        var items = body!.Users;
        if (items.Count > ManagementApi.MaxBulkUsers) return Problems.Invalid($"users must list at most {ManagementApi.MaxBulkUsers} users.");
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

        var actor = ManagementApi.Caller(context, options).ActorFor(tenant);
        var result = await store.SetUsersActiveAsync(tenant, changes, actor, durable: true).ConfigureAwait(false);
        if (result.Status == ActivationStatus.Updated) ManagementApi.AdminChanges(context).BulkActivation(actor, tenant, changes, result.EndedSessionIds.Count);
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

    public static async Task<Results<Ok<SwapResponse>, ProblemHttpResult>> SwapAsync(
        string tenant, HttpContext context, [FromServices] LicenseStore store, [FromServices] IOptionsMonitor<LicensingOptions> options)
    {
        var (body, error) = await ManagementJson.ReadAsync<SwapRequest>(context.Request, context.RequestAborted).ConfigureAwait(false);
        if (error is not null) return error;
        if (!IdentityRules.IsValidId(body!.Deactivate)) return Problems.Invalid("deactivate must be 1-128 printable ASCII characters.");
        if (!IdentityRules.IsValidId(body.Activate)) return Problems.Invalid("activate must be 1-128 printable ASCII characters.");
        if (string.Equals(body.Deactivate, body.Activate, StringComparison.Ordinal)) return Problems.Invalid("deactivate and activate must name two different users.");

        var actor = ManagementApi.Caller(context, options).ActorFor(tenant);
        var result = await store.SwapUsersAsync(tenant, body.Deactivate, body.Activate, actor, durable: true).ConfigureAwait(false);
        if (result.Status == ActivationStatus.Updated) ManagementApi.AdminChanges(context).UsersSwapped(actor, tenant, body.Deactivate, body.Activate, result.EndedSessionIds.Count);
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

    /// <summary>Each id valid and listed once; the problem names the first offending index of <paramref name="member"/>.</summary>
    internal static ProblemHttpResult? CheckUserIds(IReadOnlyList<string> users, string member)
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

    private static async Task<int> SeatLimitAsync(LicenseStore store, string tenant) =>
        (await store.GetTenantAsync(tenant).ConfigureAwait(false))?.SeatLimit ?? 0;

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
}
