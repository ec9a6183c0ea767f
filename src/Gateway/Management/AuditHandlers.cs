using Gateway.Licensing.Results;
using System.ComponentModel;
using System.Globalization;
using Gateway.Licensing.Store;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace Gateway.Management;

/// <summary>
/// <c>/tenants/{tenant}/audit</c>: admin changes and session activity, newest first. Roles, the tenant id,
/// the query and the tenant's plan are checked by <see cref="TenantRouteFilter"/> before this runs.
/// </summary>
internal static class AuditHandlers
{
    /// <summary><c>?since=</c> of the audit trail.</summary>
    internal sealed record SinceFilter(
        [property: FromQuery(Name = "since"), Description("Only entries at or after this time (ISO 8601, e.g. 2025-01-31T00:00:00Z).")] string? Since) : IRequestCheck
    {
        /// <summary>Null: from the oldest entry kept. Valid once <see cref="Check"/> answered no problem.</summary>
        public DateTimeOffset? From { get; private set; }

        public ProblemHttpResult? Check(HttpContext context)
        {
            if (Since is null) return null;
            if (!DateTimeOffset.TryParse(Since, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed)
                || parsed.ToUnixTimeMilliseconds() < 0)
                return Problems.Invalid("since must be an ISO 8601 time, e.g. 2025-01-31T00:00:00Z.");
            From = parsed;
            return null;
        }
    }

    public static async Task<Results<Ok<AuditListResponse>, ProblemHttpResult>> ListAsync(
        string tenant,
        [AsParameters] SinceFilter filter,
        [AsParameters] PageQuery<AuditPageCursor> page,
        [FromServices] LicenseQueries queries)
    {
        var entries = await queries.ListAuditAsync(tenant, filter.From, page.After?.Position, page.Size).ConfigureAwait(false);
        return TypedResults.Ok(new AuditListResponse(
            entries.Entries.Select(AuditEntryResponse.From).ToArray(),
            entries.Next is { } next ? AuditPageCursor.Encode(next) : null));
    }
}
