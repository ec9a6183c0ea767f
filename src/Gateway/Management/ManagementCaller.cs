using System.Security.Claims;
using System.Text.Json;
using Gateway.Identity;
using Gateway.Licensing.Identity;
using Gateway.Licensing.Options;

namespace Gateway.Management;

/// <summary>
/// Who calls a management route, from the claims of the validated token: tenant and user read exactly
/// as the proxy reads them (<see cref="IdClaims.ReadTenant"/>, <see cref="IdClaims.ReadUser"/>: exact
/// claim types, values as they are, an empty or invalid value is malformed), and the
/// licensing roles: the role claim's values (<c>Licensing:Roles:*</c>), or the user id listed in
/// <c>Licensing:Operators</c> or the token's tenant's <c>Licensing:Tenants:{t}:Admins</c>.
/// A route's <c>LicensingTenant</c> means nothing here: the management routes are the gateway's own.
/// </summary>
public sealed class ManagementCaller
{
    /// <summary>The default operator role value (<c>Licensing:Roles:Operator</c>).</summary>
    public const string OperatorRole = "license-operator";

    /// <summary>The default admin role value (<c>Licensing:Roles:Admin</c>).</summary>
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
        var tenantId = IdClaims.ReadTenant(principal, options.Claims.Tenant);
        var userId = IdClaims.ReadUser(principal, options.Claims.User, options.Claims.ClientId);
        // A malformed tenant never falls back to the default tenant.
        var invalid = tenantId.State == TokenIdState.Malformed || userId.State == TokenIdState.Malformed;
        var tenant = tenantId.State switch
        {
            TokenIdState.Valid => tenantId.Value,
            TokenIdState.Missing when !string.IsNullOrEmpty(options.DefaultTenant) => options.DefaultTenant,
            _ => null,
        };
        var user = userId.State == TokenIdState.Valid ? userId.Value : null;

        bool isOperator = false, isAdmin = false;
        foreach (var role in Roles(principal, options.Claims.Role))
        {
            if (role == options.Roles.Operator) isOperator = true;
            else if (role == options.Roles.Admin) isAdmin = true;
        }
        if (user is not null && !invalid)
        {
            if (options.Operators is { } operators && operators.Contains(user, StringComparer.Ordinal)) isOperator = true;
            // A listed admin of the tenant its token names (claim, else the default tenant).
            if (tenant is not null && options.Tenants.TryGetValue(tenant, out var configured)
                && configured.Admins is { } admins && admins.Contains(user, StringComparer.Ordinal)) isAdmin = true;
        }
        return new ManagementCaller(tenant, user, invalid, isOperator, isAdmin);
    }

    /// <summary>
    /// Role values: each claim of the role type, where one string claim may also hold a JSON array of
    /// strings as text. A claim that is itself structured JSON (an object, or an array nested in the
    /// token's role array: <c>"role": [["license-operator"]]</c>) grants no role.
    /// </summary>
    internal static IEnumerable<string> Roles(ClaimsPrincipal principal, string roleClaim)
    {
        foreach (var claim in IdClaims.All(principal, roleClaim))
        {
            if (IdClaims.IsStructured(claim)) continue;
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
