using System.Security.Claims;
using Microsoft.IdentityModel.JsonWebTokens;

namespace Gateway.Identity;

/// <summary>What a tenant, user, client-id or device claim may hold: one value, a string, number or boolean.</summary>
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
}
