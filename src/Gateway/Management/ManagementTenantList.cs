using Gateway.Licensing.Results;
using Gateway.Problems;
using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using System.Text.Json.Serialization;
using Gateway.Licensing.Identity;
using Gateway.Licensing.Options;
using Gateway.Licensing.Rules;
using Gateway.Licensing.Store;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace Gateway.Management;

/// <summary>One tenant in the operator's list.</summary>
[JsonNumberHandling(JsonNumberHandling.Strict)]
public sealed record TenantSummaryResponse(
    string Tenant,
    [property: JsonConverter(typeof(ExactEnumConverter<LicenseModel>))] LicenseModel Model,
    int SeatLimit,
    [property: Description("Number of active users.")] int ActiveUsers,
    [property: Description("Number of live sessions.")] int ActiveSessions,
    [property: Description("enforce or shadow: the plan's own value, else Licensing:Tenants:{tenant}:Enforcement, else Licensing:Enforcement."), AllowedValues(EnforcementModeNames.Enforce, EnforcementModeNames.Shadow)] string Enforcement);

/// <summary>A page of tenants, in ordinal order of their ids.</summary>
[JsonNumberHandling(JsonNumberHandling.Strict)]
public sealed record TenantListResponse(
    IReadOnlyList<TenantSummaryResponse> Tenants,
    [property: Description("Pass as ?cursor= to get the next page; null when there are no more tenants.")] string? NextCursor);

/// <summary><c>GET {ManagementPath}/v1/tenants</c>: every tenant with a plan, for operators.</summary>
internal static class ManagementTenantList
{
    public static RouteHandlerBuilder MapTenantList(this RouteGroupBuilder v1, string endpointNamePrefix = "") =>
        v1.MapGet("/tenants", ListTenantsAsync)
            .WithTags("Tenants")
            .RequireManagementPort()
            .WithCsv()
            .WithName(endpointNamePrefix + "ListTenants")
            .WithSummary("List every tenant with its plan and live counts, page by page")
            .WithDescription("Operator only. Tenants in ordinal order of their ids; follow nextCursor until it is null.")
            .ProblemCodes(StatusCodes.Status400BadRequest, ProblemCodes.InvalidRequest)
            .ProblemCodes(StatusCodes.Status403Forbidden, ProblemCodes.Forbidden);

    private static async Task<Results<Ok<TenantListResponse>, ProblemHttpResult>> ListTenantsAsync(
        HttpContext context,
        [FromQuery, Description("Page size, 1 to 1000; default 100.")] string? limit,
        [FromQuery, Description("nextCursor of the previous page.")] string? cursor,
        [FromServices] LicenseStore store,
        [FromServices] IOptionsMonitor<LicensingOptions> options)
    {
        if (!ManagementApi.Caller(context, options).IsOperator) return Problems.Forbidden();
        if (ManagementApi.ParseLimit(limit, out var size) is { } badLimit) return badLimit;
        string? after = null;
        if (cursor is not null && (!ManagementApi.TryDecodeCursor(cursor, out after) || !IdentityRules.IsValidTenant(after)))
            return Problems.Invalid("cursor is not a cursor this API returned.");

        var ids = await store.ListTenantsAsync().ConfigureAwait(false);
        var start = 0;
        if (after is not null)
        {
            while (start < ids.Count && string.CompareOrdinal(ids[start], after) <= 0) start++;
        }
        var page = ids.Skip(start).Take(size).ToArray();
        var snapshots = await Task.WhenAll(page.Select(store.GetTenantAsync)).ConfigureAwait(false);
        var tenants = snapshots.OfType<TenantSnapshot>()
            .Select(s => new TenantSummaryResponse(s.Tenant, s.Model, s.SeatLimit, s.ActiveUsers, s.ActiveSessions, ManagementApi.EffectiveEnforcement(s, options.CurrentValue)))
            .ToArray();
        var more = start + page.Length < ids.Count;
        return TypedResults.Ok(new TenantListResponse(tenants, more && page.Length > 0 ? ManagementApi.EncodeCursor(page[^1]) : null));
    }
}
