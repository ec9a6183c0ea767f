namespace Gateway.Problems;

/// <summary>The stable <c>code</c> member of the gateway's problem responses (listed in docs/management-api.md).</summary>
internal static class ProblemCodes
{
    public const string InvalidIdentity = "invalid-identity";
    public const string IdentityIncomplete = "identity-incomplete";
    public const string TenantUnlicensed = "tenant-unlicensed";
    public const string UserInactive = "user-inactive";
    public const string SeatsExhausted = "seats-exhausted";
    public const string UserSessionsExhausted = "user-sessions-exhausted";
    public const string StoreUnavailable = "store-unavailable";
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
