using Gateway.Licensing.Results;
using System.ComponentModel;
using System.Globalization;
using Gateway.Licensing.Store;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace Gateway.Management;

/// <summary>
/// <c>/tenants/{tenant}/usage</c>: the usage ledger, per UTC day. Roles, the tenant id, the range and the
/// tenant's plan are checked by <see cref="TenantRouteFilter"/> before this runs.
/// </summary>
internal static class UsageHandlers
{
    /// <summary><c>?from=&amp;to=</c>: UTC days, inclusive; the last <see cref="ManagementApi.DefaultUsageDays"/> days up to today by default.</summary>
    internal sealed record DayRange(
        [property: FromQuery(Name = "from"), Description("First UTC day (yyyy-MM-dd), inclusive; default 29 days before 'to'.")] string? From,
        [property: FromQuery(Name = "to"), Description("Last UTC day (yyyy-MM-dd), inclusive; default today (UTC).")] string? To) : IRequestCheck
    {
        /// <summary>Valid once <see cref="Check"/> answered no problem.</summary>
        public DateOnly First { get; private set; }

        /// <summary>Valid once <see cref="Check"/> answered no problem.</summary>
        public DateOnly Last { get; private set; }

        /// <summary>'to' first, as the default of 'from' depends on it.</summary>
        public ProblemHttpResult? Check(HttpContext context)
        {
            DateOnly last, first;
            if (To is null) last = DateOnly.FromDateTime(context.RequestServices.GetRequiredService<TimeProvider>().GetUtcNow().UtcDateTime);
            else if (!TryParseDay(To, out last)) return Problems.Invalid("to must be a day as yyyy-MM-dd.");
            if (From is null) first = last.AddDays(-(ManagementApi.DefaultUsageDays - 1));
            else if (!TryParseDay(From, out first)) return Problems.Invalid("from must be a day as yyyy-MM-dd.");
            if (first > last) return Problems.Invalid("from must not be after to.");
            if (last.DayNumber - first.DayNumber > LicenseStore.UsageRetentionDays)
                return Problems.Invalid($"The range must span at most {LicenseStore.UsageRetentionDays + 1} days.");
            (First, Last) = (first, last);
            return null;
        }

        private static bool TryParseDay(string value, out DateOnly day) =>
            DateOnly.TryParseExact(value, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out day)
            && day >= DateOnly.FromDateTime(DateTime.UnixEpoch);
    }

    public static async Task<Results<Ok<UsageResponse>, ProblemHttpResult>> GetAsync(
        string tenant,
        [AsParameters] DayRange range,
        [FromServices] LicenseQueries queries)
    {
        var days = await queries.GetUsageAsync(tenant, range.First, range.Last).ConfigureAwait(false);
        return TypedResults.Ok(new UsageResponse(tenant, range.First, range.Last,
            days.Select(d => new UsageDayResponse(d.Date, d.PeakSessions, d.PeakActiveUsers)).ToArray()));
    }
}
