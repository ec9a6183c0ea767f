namespace Gateway.Problems;

/// <summary>
/// The one list of the stable <c>code</c> members of every problem answer the gateway writes, proxy and
/// management API alike (docs/management-api.md lists them with their statuses). Tests check the
/// values: a code, once shipped, never changes.
/// </summary>
internal static class ProblemCodes
{
    public const string InvalidIdentity = "invalid-identity";
    public const string IdentityIncomplete = "identity-incomplete";

    // The management API's alone.
    public const string TenantNotFound = "tenant-not-found";
    public const string SessionNotFound = "session-not-found";
    public const string SeatLimitReached = "seat-limit-reached";
    public const string UserLimitReached = "user-limit-reached";
    public const string SeatLimitBelowActiveUsers = "seat-limit-below-active-users";
    public const string PlanManagedByConfig = "plan-managed-by-config";

    // The seat console's sign-in and its copy of the management API.
    public const string SignInRequired = "sign-in-required";
    public const string SignInFailed = "sign-in-failed";
    public const string AntiforgeryTokenInvalid = "antiforgery-token-invalid";
    public const string IdentityProviderUnavailable = "identity-provider-unavailable";

    public const string TenantUnlicensed = "tenant-unlicensed";
    public const string UserInactive = "user-inactive";
    public const string SeatsExhausted = "seats-exhausted";
    public const string UserSessionsExhausted = "user-sessions-exhausted";
    public const string StoreUnavailable = "store-unavailable";
    public const string StoreNotDurable = "store-not-durable";
    public const string NotFound = "not-found";
    public const string TenantMismatch = "tenant-mismatch";
    public const string TokenMissing = "token-missing";
    public const string TokenInvalid = "token-invalid";
    public const string Forbidden = "forbidden";
    public const string MethodNotAllowed = "method-not-allowed";
    public const string InvalidRequest = "invalid-request";
    public const string RateLimited = "rate-limited";
    public const string BackendUnreachable = "backend-unreachable";
    public const string BackendTimeout = "backend-timeout";
    public const string InternalError = "internal-error";
    public const string InvalidPath = "invalid-path";

    /// <summary>The problem <c>type</c> URI of a code: stable, and never a link that could go stale.</summary>
    public static string TypeOf(string code) => "urn:seat-gateway:problem:" + code;
}
