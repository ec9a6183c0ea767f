namespace Gateway.Problems;

/// <summary>
/// The answers the gateway writes for its own reasons rather than a licensing decision: the bearer
/// challenge's body, unknown paths and methods, a backend it could not reach or that did not answer in
/// time, a rate limiter's refusal, and an unexpected error. None names an internal type, an address or
/// a token.
/// </summary>
internal static class GatewayProblems
{
    public static Task TokenMissing(HttpContext context) =>
        ProblemResponse.WriteAsync(context, StatusCodes.Status401Unauthorized, ProblemCodes.TokenMissing,
            "Token missing", "This route needs a bearer token (Authorization: Bearer ...).");

    public static Task TokenInvalid(HttpContext context) =>
        ProblemResponse.WriteAsync(context, StatusCodes.Status401Unauthorized, ProblemCodes.TokenInvalid,
            "Token invalid", "The bearer token is not valid here: it is malformed, expired, not yet valid, badly signed, or from another issuer or audience.");

    public static Task Forbidden(HttpContext context) =>
        ProblemResponse.WriteAsync(context, StatusCodes.Status403Forbidden, ProblemCodes.Forbidden,
            "Forbidden", "The route's authorization policy does not allow this caller.");

    public static Task MethodNotAllowed(HttpContext context) =>
        ProblemResponse.WriteAsync(context, StatusCodes.Status405MethodNotAllowed, ProblemCodes.MethodNotAllowed,
            "Method not allowed", "No route serves this method on this path; the Allow header lists the ones that are.");

    public static Task RequestBodyUnreadable(HttpContext context) =>
        ProblemResponse.WriteAsync(context, StatusCodes.Status400BadRequest, ProblemCodes.InvalidRequest,
            "Invalid request", "The request body could not be read from the client.");

    public static Task BackendUnreachable(HttpContext context) =>
        ProblemResponse.WriteAsync(context, StatusCodes.Status502BadGateway, ProblemCodes.BackendUnreachable,
            "Backend unreachable", "The gateway could not get an answer from any backend of this route.");

    public static Task BackendTimeout(HttpContext context) =>
        ProblemResponse.WriteAsync(context, StatusCodes.Status504GatewayTimeout, ProblemCodes.BackendTimeout,
            "Backend timeout", "The backend did not answer within the route's timeout.");

    public static Task RateLimited(HttpContext context, TimeSpan? retryAfter)
    {
        if (retryAfter is { } wait) ProblemResponse.SetRetryAfter(context, wait);
        return ProblemResponse.WriteAsync(context, StatusCodes.Status429TooManyRequests, ProblemCodes.RateLimited,
            "Rate limited", "Too many requests for this route; slow down and retry later.");
    }

    public static Task InternalError(HttpContext context) =>
        ProblemResponse.WriteAsync(context, StatusCodes.Status500InternalServerError, ProblemCodes.InternalError,
            "Internal error", "The gateway met an unexpected error. It has been logged; quote traceId when reporting it.");
}
