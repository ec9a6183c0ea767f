using Microsoft.AspNetCore.Http.HttpResults;

namespace Gateway.Management;

/// <summary>The stable <c>code</c> members of the management API's problem+json answers.</summary>
public static class ManagementProblemCodes
{
    public const string InvalidRequest = "invalid-request";
    public const string InvalidIdentity = "invalid-identity";
    public const string IdentityIncomplete = "identity-incomplete";
    public const string Forbidden = "forbidden";
    public const string TenantNotFound = "tenant-not-found";
    public const string SessionNotFound = "session-not-found";
    public const string SeatLimitReached = "seat-limit-reached";
    public const string SeatLimitBelowActiveUsers = "seat-limit-below-active-users";
    public const string PlanManagedByConfig = "plan-managed-by-config";
    public const string StoreUnavailable = "store-unavailable";
}

/// <summary>Builds the RFC 9457 answers of the management API; every one carries a <c>code</c>.</summary>
internal static class Problems
{
    public static ProblemHttpResult Create(int status, string code, string title, string? detail = null, IDictionary<string, object?>? extensions = null)
    {
        var ext = new Dictionary<string, object?>(StringComparer.Ordinal) { ["code"] = code };
        if (extensions is not null)
        {
            foreach (var (k, v) in extensions) ext[k] = v;
        }
        return TypedResults.Problem(detail: detail, statusCode: status, title: title, extensions: ext);
    }

    public static ProblemHttpResult Invalid(string detail) =>
        Create(StatusCodes.Status400BadRequest, ManagementProblemCodes.InvalidRequest, "The request is invalid.", detail);

    public static ProblemHttpResult Forbidden() =>
        Create(StatusCodes.Status403Forbidden, ManagementProblemCodes.Forbidden, "Not allowed.",
            "This route needs the license-operator role, or license-admin for the tenant of your token.");

    public static ProblemHttpResult TenantNotFound(string tenant) =>
        Create(StatusCodes.Status404NotFound, ManagementProblemCodes.TenantNotFound, "The tenant has no plan.", $"No plan for tenant '{tenant}'.");

    public static ProblemHttpResult SessionNotFound() =>
        Create(StatusCodes.Status404NotFound, ManagementProblemCodes.SessionNotFound, "No such session.", "The session does not exist or has already ended.");

    public static ProblemHttpResult SeatLimitReached(int seatLimit) =>
        Create(StatusCodes.Status409Conflict, ManagementProblemCodes.SeatLimitReached, "The seat limit is reached.",
            $"All {seatLimit} seats are taken by active users; deactivate one first or swap.",
            new Dictionary<string, object?> { ["seatLimit"] = seatLimit });

    public static ProblemHttpResult IdentityIncomplete() =>
        Create(StatusCodes.Status403Forbidden, ManagementProblemCodes.IdentityIncomplete, "The token names no tenant or user.");

    public static ProblemHttpResult InvalidIdentity() =>
        Create(StatusCodes.Status400BadRequest, ManagementProblemCodes.InvalidIdentity, "The token's tenant or user id is malformed.");
}
