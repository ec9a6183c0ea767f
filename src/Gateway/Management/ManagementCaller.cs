using System.Security.Claims;
using System.Text.Json;
using Gateway.Licensing.Identity;
using Gateway.Licensing.Options;

namespace Gateway.Management;

/// <summary>
/// Who calls a management route, from the claims of the validated token: tenant and user as in
/// SPEC §2 and the licensing roles (SPEC §6).
/// </summary>
public sealed class ManagementCaller
{
    public const string OperatorRole = "license-operator";
    public const string AdminRole = "license-admin";

    private ManagementCaller(string? tenant, string? user, bool invalidIdentity, bool isOperator, bool isAdmin)
    {
        Tenant = tenant;
        User = user;
        HasInvalidIdentity = invalidIdentity;
        IsOperator = isOperator;
        IsAdmin = isAdmin;
    }

    /// <summary>The tenant of the token (tenant claim, else <c>Licensing:DefaultTenant</c>); null when none or malformed.</summary>
    public string? Tenant { get; }

    /// <summary>The user of the token (user claim, else client-id claim); null when none or malformed.</summary>
    public string? User { get; }

    /// <summary>True when the token carries a tenant or user value that is not a valid id.</summary>
    public bool HasInvalidIdentity { get; }

    public bool IsOperator { get; }

    public bool IsAdmin { get; }

    /// <summary>Operators administer every tenant; admins only the tenant of their own token.</summary>
    public bool MayAdminister(string tenant) =>
        IsOperator || (IsAdmin && Tenant is not null && string.Equals(Tenant, tenant, StringComparison.Ordinal));

    /// <summary>The actor written to the audit trail of <paramref name="tenant"/>.</summary>
    public string ActorFor(string tenant)
    {
        var user = User ?? "unknown";
        return Tenant is null || string.Equals(Tenant, tenant, StringComparison.Ordinal) ? user : $"{user}@{Tenant}";
    }

    public static ManagementCaller From(ClaimsPrincipal principal, LicensingOptions options)
    {
        var invalid = false;

        string? tenant = null;
        var tenantClaim = principal.FindFirst(options.Claims.Tenant)?.Value;
        if (!string.IsNullOrEmpty(tenantClaim))
        {
            if (IdentityRules.IsValidTenant(tenantClaim)) tenant = tenantClaim;
            else invalid = true;
        }
        else if (!string.IsNullOrEmpty(options.DefaultTenant))
        {
            tenant = options.DefaultTenant;
        }

        string? user = null;
        var userClaim = principal.FindFirst(options.Claims.User)?.Value;
        if (string.IsNullOrEmpty(userClaim)) userClaim = principal.FindFirst(options.Claims.ClientId)?.Value;
        if (!string.IsNullOrEmpty(userClaim))
        {
            if (IdentityRules.IsValidId(userClaim)) user = userClaim;
            else invalid = true;
        }

        bool isOperator = false, isAdmin = false;
        foreach (var role in Roles(principal, options.Claims.Role))
        {
            if (role == OperatorRole) isOperator = true;
            else if (role == AdminRole) isAdmin = true;
        }
        return new ManagementCaller(tenant, user, invalid, isOperator, isAdmin);
    }

    /// <summary>Role values: each claim of the role type, where one claim may also hold a JSON array of strings.</summary>
    internal static IEnumerable<string> Roles(ClaimsPrincipal principal, string roleClaim)
    {
        foreach (var claim in principal.FindAll(roleClaim))
        {
            var value = claim.Value;
            if (value.Length > 0 && value[0] == '[')
            {
                string[]? array = null;
                try { array = JsonSerializer.Deserialize<string[]>(value); }
                catch (JsonException) { }
                if (array is not null)
                {
                    foreach (var item in array)
                    {
                        if (!string.IsNullOrEmpty(item)) yield return item;
                    }
                    continue;
                }
            }
            yield return value;
        }
    }
}
