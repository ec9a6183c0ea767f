using System.Security.Claims;

namespace Gateway.Authentication;

/// <summary>
/// The principal of a cached bearer token, shared by every request that presents the token (see
/// <see cref="ValidatedTokenCache"/>). Never changed after it is built; what the gateway derives
/// from its claims alone is kept in <see cref="Derived"/>, so it is derived once per token.
/// </summary>
internal sealed class SharedPrincipal(ClaimsIdentity identity) : ClaimsPrincipal(identity)
{
    /// <summary>Set and read by one owner (the identity resolver), with volatile access.</summary>
    public object? Derived;
}
