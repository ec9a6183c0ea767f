using Gateway.Licensing.Identity;

namespace Gateway.Identity;

internal enum IdentityProblem : byte
{
    None,

    /// <summary>A malformed tenant, user, client kind or device value: 400 <c>invalid-identity</c>.</summary>
    Invalid,

    /// <summary>No tenant, or neither user nor client id: 403 <c>identity-incomplete</c>.</summary>
    Incomplete,

    /// <summary>The token's tenant claim names another tenant than the route's: 403 <c>tenant-mismatch</c>.</summary>
    TenantMismatch,
}

/// <summary>
/// The session identity of a request and its session id (<see cref="SessionIdentity.ComputeSessionId"/>),
/// or why there is none. <see cref="Detail"/> never echoes a raw value.
/// </summary>
internal readonly record struct IdentityResolution(SessionIdentity Identity, string SessionId, IdentityProblem Problem, string? Detail)
{
    public bool Succeeded => Problem == IdentityProblem.None;

    public static IdentityResolution Of(SessionIdentity identity, string sessionId) => new(identity, sessionId, IdentityProblem.None, null);

    public static IdentityResolution Invalid(string detail) => new(default, "", IdentityProblem.Invalid, detail);

    public static IdentityResolution Incomplete(string detail) => new(default, "", IdentityProblem.Incomplete, detail);

    public static IdentityResolution Mismatch(string detail) => new(default, "", IdentityProblem.TenantMismatch, detail);
}
