using Gateway.Licensing.Results;
using System.ComponentModel;
using Gateway.Licensing.Identity;
using Gateway.Licensing.Options;
using Gateway.Licensing.Sessions;
using Gateway.Licensing.Store;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace Gateway.Management;

/// <summary>
/// <c>/tenants/{tenant}/sessions</c>: a tenant's live sessions, and ending one. Roles, the tenant id, the
/// query and the tenant's plan are checked by <see cref="TenantRouteFilter"/> before these run.
/// </summary>
internal static class SessionHandlers
{
    /// <summary><c>?userId=</c> of the session list.</summary>
    internal sealed record UserFilter(
        [property: FromQuery(Name = "userId"), Description("Only the sessions of this user.")] string? UserId) : IRequestCheck
    {
        public ProblemHttpResult? Check(HttpContext context) =>
            UserId is not null && !IdentityRules.IsValidId(UserId) ? Problems.Invalid("userId must be 1-128 printable ASCII characters.") : null;
    }

    /// <summary>
    /// The <c>{sessionId}</c> of a session route. A malformed id names no session: 404
    /// <c>session-not-found</c>, checked before the tenant's plan is read.
    /// </summary>
    internal sealed record SessionRoute([property: FromRoute(Name = "sessionId")] string SessionId) : IRequestCheck
    {
        public ProblemHttpResult? Check(HttpContext context) =>
            SessionIdentity.IsWellFormedSessionId(SessionId) ? null : Problems.SessionNotFound();
    }

    public static async Task<Results<Ok<SessionListResponse>, ProblemHttpResult>> ListAsync(
        string tenant,
        [AsParameters] UserFilter filter,
        [AsParameters] PageQuery<SessionCursor> page,
        [FromServices] LicenseQueries queries)
    {
        var sessions = await queries.ListSessionsAsync(tenant, filter.UserId, page.After?.SessionId, page.Size).ConfigureAwait(false);
        return TypedResults.Ok(new SessionListResponse(sessions.Sessions.Select(SessionResponse.From).ToArray(), sessions.NextAfter));
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> DeleteAsync(
        string tenant, [AsParameters] SessionRoute session, HttpContext context, [FromServices] LicenseStore store, [FromServices] IOptionsMonitor<LicensingOptions> options)
    {
        var actor = ManagementApi.Caller(context, options).ActorFor(tenant);
        var ended = await store.EndSessionAsync(tenant, session.SessionId, EndReason.Revoked, actor, durable: true).ConfigureAwait(false);
        if (ended) ManagementApi.AdminChanges(context).SessionEnded(actor, tenant, session.SessionId);
        return ended ? TypedResults.NoContent() : Problems.SessionNotFound();
    }
}
