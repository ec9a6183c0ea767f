using Gateway.Identity;
using Gateway.Licensing.Results;
using Gateway.Licensing.Sessions;

namespace Gateway.Problems;

/// <summary>The gateway's rejections (docs/management-api.md lists them), one method per answer.</summary>
internal static class LicensingProblems
{
    /// <summary>Retry-After of a 503 <c>store-unavailable</c> (and of the console's provider outage).</summary>
    public static readonly TimeSpan StoreRetryAfter = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Retry-After of a 503 <c>store-unavailable</c> at the embedded store's session ceiling: room
    /// comes back as sessions idle out or log out, which takes longer than an outage's reconnect.
    /// </summary>
    public static readonly TimeSpan SessionCeilingRetryAfter = TimeSpan.FromSeconds(60);

    public static Task IdentityRefused(HttpContext context, in IdentityResolution resolution) => resolution.Problem switch
    {
        IdentityProblem.Incomplete => ProblemResponse.WriteAsync(context, StatusCodes.Status403Forbidden, ProblemCodes.IdentityIncomplete,
            "Identity incomplete", resolution.Detail ?? "The token does not name a tenant and a user."),
        IdentityProblem.TenantMismatch => ProblemResponse.WriteAsync(context, StatusCodes.Status403Forbidden, ProblemCodes.TenantMismatch,
            "Tenant mismatch", resolution.Detail ?? "The token belongs to another tenant than this route."),
        _ => ProblemResponse.WriteAsync(context, StatusCodes.Status400BadRequest, ProblemCodes.InvalidIdentity,
            "Invalid identity", resolution.Detail ?? "The request's identity is malformed."),
    };

    public static Task TenantUnlicensed(HttpContext context) =>
        ProblemResponse.WriteAsync(context, StatusCodes.Status403Forbidden, ProblemCodes.TenantUnlicensed,
            "Tenant not licensed", "There is no licence plan for this tenant.");

    public static Task UserInactive(HttpContext context) =>
        ProblemResponse.WriteAsync(context, StatusCodes.Status403Forbidden, ProblemCodes.UserInactive,
            "User inactive", "This user is not active; an administrator of the tenant must activate the user.");

    public static Task SeatsExhausted(HttpContext context, AdmissionResult result)
    {
        ProblemResponse.SetRetryAfter(context, result.RetryAfter);
        return ProblemResponse.WriteAsync(context, StatusCodes.Status429TooManyRequests, ProblemCodes.SeatsExhausted,
            "Seats exhausted",
            "Every seat of the tenant is in use. End one of your sessions (yourSessions) or retry later.",
            static (json, r) =>
            {
                json.WriteNumber("seatLimit", r.SeatLimit);
                json.WriteNumber("activeSessions", r.ActiveSessions);
                json.WriteStartArray("yourSessions");
                foreach (var id in r.YourSessions) json.WriteStringValue(id);
                json.WriteEndArray();
            }, result);
    }

    /// <summary>
    /// The user holds the per-user limit of sessions. No Retry-After: waiting does not help, ending one of
    /// the user's own sessions (<c>yourSessions</c>) does.
    /// </summary>
    public static Task UserSessionsExhausted(HttpContext context, AdmissionResult result) =>
        ProblemResponse.WriteAsync(context, StatusCodes.Status429TooManyRequests, ProblemCodes.UserSessionsExhausted,
            "User sessions exhausted",
            "You hold as many sessions as one user may. End one of your sessions (yourSessions) to open another.",
            static (json, r) =>
            {
                json.WriteStartArray("yourSessions");
                foreach (var id in r.YourSessions) json.WriteStringValue(id);
                json.WriteEndArray();
            }, result);

    public static Task StoreUnavailable(HttpContext context) =>
        StoreUnavailable(context, StoreRetryAfter, "The licensing store cannot be reached, so no new session can be opened. Retry later.");

    /// <summary>
    /// The embedded store holds its most sessions (<c>Licensing:Embedded:MaxSessions</c>). The same code as an
    /// outage, since to a client it is one: no new session until the store has room again.
    /// </summary>
    public static Task SessionCeilingReached(HttpContext context) =>
        StoreUnavailable(context, SessionCeilingRetryAfter,
            "The embedded licensing store holds its most sessions (Licensing:Embedded:MaxSessions), so no new session can be opened. Retry later.");

    private static Task StoreUnavailable(HttpContext context, TimeSpan retryAfter, string detail)
    {
        ProblemResponse.SetRetryAfter(context, retryAfter);
        return ProblemResponse.WriteAsync(context, StatusCodes.Status503ServiceUnavailable, ProblemCodes.StoreUnavailable,
            "Licensing store unavailable", detail);
    }

    public static Task NotFound(HttpContext context) =>
        ProblemResponse.WriteAsync(context, StatusCodes.Status404NotFound, ProblemCodes.NotFound,
            "Not found", "The gateway has no such route.");

    public static Task InvalidPath(HttpContext context) =>
        ProblemResponse.WriteAsync(context, StatusCodes.Status400BadRequest, ProblemCodes.InvalidPath,
            "Invalid path", "The path holds a backslash, a ';' path parameter, a twice-encoded character or a '.'/'..' segment, which a backend could read differently from the gateway.");
}
