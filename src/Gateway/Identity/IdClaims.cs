using System.Security.Claims;
using Gateway.Licensing.Identity;
using Microsoft.IdentityModel.JsonWebTokens;

namespace Gateway.Identity;

/// <summary>What reading a one-valued claim found.</summary>
internal enum ClaimRead : byte
{
    /// <summary>No claim of the type.</summary>
    Missing,

    /// <summary>One value (a claim repeated with the same value is one value); it may be empty.</summary>
    Found,

    /// <summary>Several different values, or a structured JSON value: malformed.</summary>
    Ambiguous,
}

/// <summary>What a token says about one of its ids (tenant, user).</summary>
internal enum TokenIdState : byte
{
    /// <summary>No claim for it.</summary>
    Missing,

    /// <summary>One value that is a valid id (<see cref="IdentityRules"/>).</summary>
    Valid,

    /// <summary>An empty, invalid, ambiguous or structured value: refused, never replaced by a default.</summary>
    Malformed,
}

/// <summary>A token's tenant or user: its state, the value when valid, and for a user whether the client id claim named it.</summary>
internal readonly record struct TokenId(TokenIdState State, string Value, bool FromClientId = false)
{
    public static readonly TokenId Missing = new(TokenIdState.Missing, "");
    public static readonly TokenId Malformed = new(TokenIdState.Malformed, "");
}

/// <summary>
/// The one reader of id claims (tenant, user, client id, device), used by the proxy's identity
/// resolver and by the management API alike. A claim holds one value: a string, or a number or
/// boolean taken as its JSON text. Claim types match exactly (ordinal, letter case included), across
/// every identity of the principal; a value is taken as it is (never trimmed), and an empty value is a
/// value (and no valid id), never "no claim". <see cref="ReadTenant"/> and <see cref="ReadUser"/> are the
/// one interpretation of a token's tenant and user, for both sides.
/// </summary>
internal static class IdClaims
{
    /// <summary>
    /// Whether the claim's JSON value is an object, an array inside an array, or null. Such a value is
    /// no id, even when its JSON text happens to be printable ASCII (<c>{"a":1}</c>), so it is refused
    /// like an ambiguous claim. Strings are ids; numbers and booleans are taken as their JSON text
    /// (<c>42</c>), which some identity providers use for numeric ids.
    /// </summary>
    public static bool IsStructured(Claim claim) =>
        claim.ValueType is JsonClaimValueTypes.Json or JsonClaimValueTypes.JsonArray or JsonClaimValueTypes.JsonNull;

    /// <summary>
    /// Reads a claim that must have one value; several distinct values are ambiguous, and so is a value
    /// that is a JSON object, a nested array or null (<see cref="IsStructured"/>).
    /// </summary>
    public static ClaimRead Read(ClaimsPrincipal principal, string type, out string value)
    {
        string? found = null;
        foreach (var identity in principal.Identities)
        {
            foreach (var claim in identity.Claims)
            {
                if (!string.Equals(claim.Type, type, StringComparison.Ordinal)) continue;
                if (IsStructured(claim) || found is not null && !string.Equals(found, claim.Value, StringComparison.Ordinal))
                {
                    value = "";
                    return ClaimRead.Ambiguous;
                }
                found = claim.Value;
            }
        }
        value = found ?? "";
        return found is null ? ClaimRead.Missing : ClaimRead.Found;
    }

    /// <summary>Every claim of <paramref name="type"/> (matched exactly), across every identity: for claims with several values, such as roles.</summary>
    public static IEnumerable<Claim> All(ClaimsPrincipal principal, string type)
    {
        foreach (var identity in principal.Identities)
        {
            foreach (var claim in identity.Claims)
            {
                if (string.Equals(claim.Type, type, StringComparison.Ordinal)) yield return claim;
            }
        }
    }

    /// <summary>
    /// The token's tenant: the tenant claim when it holds a valid tenant id, malformed when it holds
    /// anything else (an empty value included), missing when there is no such claim. The caller decides
    /// what a missing tenant means (a route's tenant, <c>Licensing:DefaultTenant</c>).
    /// </summary>
    public static TokenId ReadTenant(ClaimsPrincipal principal, string tenantClaim) =>
        Read(principal, tenantClaim, out var tenant) switch
        {
            ClaimRead.Found when IdentityRules.IsValidTenant(tenant) => new TokenId(TokenIdState.Valid, tenant),
            ClaimRead.Missing => TokenId.Missing,
            _ => TokenId.Malformed,
        };

    /// <summary>
    /// The token's user: the user claim; only when the token has no user claim at all, the client id
    /// claim (a service's token). A malformed user claim never falls back to the client id.
    /// </summary>
    public static TokenId ReadUser(ClaimsPrincipal principal, string userClaim, string clientIdClaim)
    {
        var fromClientId = false;
        var read = Read(principal, userClaim, out var user);
        if (read == ClaimRead.Missing)
        {
            read = Read(principal, clientIdClaim, out user);
            fromClientId = true;
        }
        return read switch
        {
            ClaimRead.Found when IdentityRules.IsValidId(user) => new TokenId(TokenIdState.Valid, user, fromClientId),
            ClaimRead.Missing => TokenId.Missing,
            _ => TokenId.Malformed with { FromClientId = fromClientId },
        };
    }
}
