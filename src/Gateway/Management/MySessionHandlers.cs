using Gateway.Licensing.Results;
using Gateway.Licensing.Identity;
using Gateway.Licensing.Options;
using Gateway.Licensing.Sessions;
using Gateway.Licensing.Store;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace Gateway.Management;

/// <summary>
/// <c>/me/sessions</c>: any authenticated caller, about the sessions of the tenant and user its own token
/// names. A token naming no valid tenant and user gets a problem before anything else is read.
/// </summary>
internal static class MySessionHandlers
{
    /// <summary>The <c>{sessionId}</c> that names the session of the very request that asks.</summary>
    public const string Current = "current";

    public static async Task<Results<Ok<SessionListResponse>, ProblemHttpResult>> ListAsync(
        HttpContext context,
        [AsParameters] PageQuery<SessionCursor> page,
        [FromServices] LicenseQueries queries,
        [FromServices] IOptionsMonitor<LicensingOptions> options)
    {
        var caller = ManagementApi.Caller(context, options);
        if (OwnIdentityProblem(caller) is { } problem) return problem;
        if (page.Check(context) is { } badPage) return badPage;
        var sessions = await queries.ListSessionsAsync(caller.Tenant!, caller.User!, page.After?.SessionId, page.Size).ConfigureAwait(false);
        return TypedResults.Ok(new SessionListResponse(sessions.Sessions.Select(SessionResponse.From).ToArray(), sessions.NextAfter));
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> DeleteAsync(
        string sessionId, HttpContext context, [FromServices] LicenseStore store, [FromServices] IOptionsMonitor<LicensingOptions> options)
    {
        var caller = ManagementApi.Caller(context, options);
        if (OwnIdentityProblem(caller) is { } problem) return problem;
        string id;
        if (sessionId == Current)
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

    private static ProblemHttpResult? OwnIdentityProblem(ManagementCaller caller)
    {
        if (caller.HasInvalidIdentity) return Problems.InvalidIdentity();
        if (caller.Tenant is null || caller.User is null) return Problems.IdentityIncomplete();
        return null;
    }
}
