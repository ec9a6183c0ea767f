using System.Diagnostics;
using Gateway.Problems;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Gateway.Management;

/// <summary>Builds the RFC 9457 answers of the management API; every one carries a <c>code</c>.</summary>
internal static class Problems
{
    /// <summary>
    /// A problem in the gateway's format (as <c>Gateway.Problems.ProblemResponse</c> writes them):
    /// <c>type</c> <c>urn:seat-gateway:problem:{code}</c>, <c>title</c>, <c>status</c>, <c>detail</c>,
    /// <c>code</c>, extension members, <c>traceId</c>.
    /// </summary>
    public static ProblemHttpResult Create(int status, string code, string title, string detail, IDictionary<string, object?>? extensions = null)
    {
        var ext = new Dictionary<string, object?>(StringComparer.Ordinal) { ["code"] = code };
        if (extensions is not null)
        {
            foreach (var (k, v) in extensions) ext[k] = v;
        }
        if (Activity.Current?.Id is { } traceId) ext["traceId"] = traceId;
        return TypedResults.Problem(detail: detail, statusCode: status, title: title, type: ProblemCodes.TypeOf(code), extensions: ext);
    }

    /// <summary>
    /// Endpoint filter of the management routes: a problem a handler returns is written by
    /// <see cref="ProblemResponse"/>, the writer of every other problem the gateway answers, so both sides
    /// write the same members in the same order with the same headers.
    /// </summary>
    public static async ValueTask<object?> WrittenByGatewayWriter(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var result = await next(context).ConfigureAwait(false);
        var answer = result is INestedHttpResult nested ? nested.Result : result;
        return answer is ProblemHttpResult problem && ProblemResponse.CodeOf(problem.ProblemDetails) is not null
            ? new ProblemResult(problem.ProblemDetails)
            : result;
    }

    /// <summary>503 <c>store-unavailable</c>; the caller sets <c>Retry-After</c>.</summary>
    public static IResult StoreUnavailable() =>
        new ProblemResult(Create(StatusCodes.Status503ServiceUnavailable, ProblemCodes.StoreUnavailable,
            "Licensing store unavailable", "The licensing store did not answer in time. Retry later.").ProblemDetails);

    /// <summary>503 <c>store-not-durable</c>: the write may or may not survive; no Retry-After, the client reads again first.</summary>
    public static IResult StoreNotDurable() =>
        new ProblemResult(Create(StatusCodes.Status503ServiceUnavailable, ProblemCodes.StoreNotDurable,
            "Change not durable", "The change was made, but too few replicas of the licensing store acknowledged it in time: it may be lost if the store fails over. Read the current state before retrying.").ProblemDetails);

    public static ProblemHttpResult Invalid(string detail) =>
        Create(StatusCodes.Status400BadRequest, ProblemCodes.InvalidRequest, "Invalid request", detail);

    public static ProblemHttpResult Forbidden() =>
        Create(StatusCodes.Status403Forbidden, ProblemCodes.Forbidden, "Forbidden",
            "This route needs an operator, or an admin of the tenant your token names (roles from the role claim or the configuration).");

    public static ProblemHttpResult TenantNotFound(string tenant) =>
        Create(StatusCodes.Status404NotFound, ProblemCodes.TenantNotFound, "Tenant not found", $"There is no licence plan for tenant '{tenant}'.");

    public static ProblemHttpResult SessionNotFound() =>
        Create(StatusCodes.Status404NotFound, ProblemCodes.SessionNotFound, "Session not found", "There is no such live session: it does not exist, has already ended or is not yours.");

    public static ProblemHttpResult SeatLimitReached(int seatLimit) =>
        Create(StatusCodes.Status409Conflict, ProblemCodes.SeatLimitReached, "Seat limit reached",
            $"All {seatLimit} seats are taken by active users; deactivate one first or swap.",
            new Dictionary<string, object?> { ["seatLimit"] = seatLimit });

    public static ProblemHttpResult UserLimitReached(int maxUsers) =>
        Create(StatusCodes.Status409Conflict, ProblemCodes.UserLimitReached, "User limit reached",
            $"The tenant already has {maxUsers} registered users, the most one tenant may have (Licensing:MaxUsersPerTenant); nothing was changed.",
            new Dictionary<string, object?> { ["maxUsers"] = maxUsers });

    public static ProblemHttpResult IdentityIncomplete() =>
        Create(StatusCodes.Status403Forbidden, ProblemCodes.IdentityIncomplete, "Identity incomplete", "The token does not name a tenant and a user.");

    public static ProblemHttpResult InvalidIdentity() =>
        Create(StatusCodes.Status400BadRequest, ProblemCodes.InvalidIdentity, "Invalid identity", "The token's tenant or user is malformed or ambiguous.");
}
