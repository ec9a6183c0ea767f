using System.Globalization;
using System.Text;
using Gateway.Licensing.Identity;
using Microsoft.Extensions.Primitives;
using Microsoft.Net.Http.Headers;

namespace Gateway.Management;

/// <summary>Endpoint metadata: the list route also answers <c>text/csv</c> with these columns.</summary>
public sealed record CsvMetadata(IReadOnlyList<string> Columns);

/// <summary>
/// <c>text/csv</c> answers of the list routes, for spreadsheets and billing true-up, when the request
/// prefers it (<c>Accept: text/csv</c>): a header row with the JSON member names, then one row per item
/// with the same values (times in UTC ISO 8601, lists space-separated, null as an empty field). Fields
/// are quoted per RFC 4180 when they hold a comma, a quote, a line break or outer spaces. Ids that
/// users or tokens control (user, device, actor, tenant) are defused against spreadsheet formulas: a
/// value starting with <c>=</c>, <c>+</c>, <c>-</c>, <c>@</c>, a tab or a carriage return gets a
/// leading <c>'</c>. The next page is named in a <c>Link: &lt;...&gt;; rel="next"</c> header.
/// Refusals stay problem+json.
/// </summary>
internal static class ManagementCsv
{
    public const string ContentType = "text/csv";

    private static readonly string[] UserColumns = ["userId", "active", "sessions", "lastSeenAt"];
    private static readonly string[] SessionColumns = ["sessionId", "userId", "clientKind", "deviceId", "startedAt", "lastSeenAt", "expiresAt", "borrowed"];
    private static readonly string[] AuditColumns = ["at", "action", "actor", "userId", "sessionId", "reason", "clientKind", "deviceId", "model", "seatLimit", "reservedUsers", "fromConfiguration"];
    private static readonly string[] UsageColumns = ["date", "peakSessions", "peakActiveUsers"];
    private static readonly string[] TenantColumns = ["tenant", "model", "seatLimit", "activeUsers", "activeSessions", "enforcement"];

    /// <summary>
    /// Lets the list route answer <c>text/csv</c> (its JSON value is converted after the handler ran). The
    /// <c>Vary: Accept</c> of such a route is set by the management group's filter, so that an answer
    /// given before this filter runs (a refusal of the tenant routes' filter) carries it too.
    /// </summary>
    public static RouteHandlerBuilder WithCsv(this RouteHandlerBuilder builder) =>
        builder.AddEndpointFilter(CsvFilter).WithMetadata(new CsvMetadata([]));

    private static async ValueTask<object?> CsvFilter(EndpointFilterInvocationContext invocation, EndpointFilterDelegate next)
    {
        var context = invocation.HttpContext;
        var result = await next(invocation).ConfigureAwait(false);
        var answer = result is INestedHttpResult nested ? nested.Result : result;
        if (!PrefersCsv(context.Request) || answer is not IValueHttpResult { Value: { } value } || answer is not IStatusCodeHttpResult { StatusCode: 200 })
            return result;
        var table = ToTable(value);
        if (table is null) return result;
        return new CsvResult(table.Value.Name, table.Value.Columns, table.Value.Rows, table.Value.NextCursor);
    }

    /// <summary>Whether <c>text/csv</c> is acceptable and ranks at least as high as JSON (JSON wins a tie with a wildcard).</summary>
    internal static bool PrefersCsv(HttpRequest request)
    {
        var accept = request.Headers.Accept;
        if (accept.Count == 0 || !MediaTypeHeaderValue.TryParseList(accept, out var types)) return false;
        double csv = 0, json = 0;
        foreach (var type in types)
        {
            var q = type.Quality ?? 1;
            var media = type.MediaType;
            if (media.Equals(ContentType, StringComparison.OrdinalIgnoreCase)) csv = Math.Max(csv, q);
            else if (media.Equals("application/json", StringComparison.OrdinalIgnoreCase)) json = Math.Max(json, q);
        }
        return csv > 0 && csv >= json;
    }

    private static (string Name, string[] Columns, IEnumerable<string?[]> Rows, string? NextCursor)? ToTable(object value) => value switch
    {
        UserListResponse users => ("users", UserColumns,
            users.Users.Select(u => new[] { Defuse(u.UserId), Bool(u.Active), Int(u.Sessions), Time(u.LastSeenAt) }), users.NextCursor),
        SessionListResponse sessions => ("sessions", SessionColumns,
            sessions.Sessions.Select(s => new[]
            {
                s.SessionId, Defuse(s.UserId), s.ClientKind.ToName(), Defuse(s.DeviceId), Time(s.StartedAt), Time(s.LastSeenAt), Time(s.ExpiresAt), Bool(s.Borrowed),
            }), sessions.NextCursor),
        AuditListResponse audit => ("audit", AuditColumns,
            audit.Entries.Select(e => new[]
            {
                Time(e.At), e.Action, Defuse(e.Actor), Defuse(e.UserId), e.SessionId, e.Reason, e.ClientKind, Defuse(e.DeviceId), e.Model,
                e.SeatLimit is { } limit ? Int(limit) : null,
                e.ReservedUsers is { } reserved ? Defuse(string.Join(' ', reserved)) : null,
                e.FromConfiguration is { } configured ? Bool(configured) : null,
            }), audit.NextCursor),
        UsageResponse usage => ("usage", UsageColumns,
            usage.Days.Select(d => new[] { d.Date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), Int(d.PeakSessions), Int(d.PeakActiveUsers) }), null),
        TenantListResponse tenants => ("tenants", TenantColumns,
            tenants.Tenants.Select(t => new[]
            {
                Defuse(t.Tenant), t.Model.ToString(), Int(t.SeatLimit), Int(t.ActiveUsers), Int(t.ActiveSessions), t.Enforcement,
            }), tenants.NextCursor),
        _ => null,
    };

    private static string Bool(bool value) => value ? "true" : "false";

    private static string Int(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static string? Time(DateTimeOffset? value) =>
        value?.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    /// <summary>A value a user or token controls, kept from being read as a spreadsheet formula.</summary>
    internal static string? Defuse(string? value) =>
        value is { Length: > 0 } && value[0] is '=' or '+' or '-' or '@' or '\t' or '\r' ? "'" + value : value;

    /// <summary>RFC 4180: quoted when it holds a comma, quote, CR or LF, or starts or ends with a space.</summary>
    internal static void AppendField(StringBuilder line, string? value)
    {
        if (string.IsNullOrEmpty(value)) return;
        var quote = value.AsSpan().IndexOfAny(",\"\r\n") >= 0 || value[0] == ' ' || value[^1] == ' ';
        if (!quote)
        {
            line.Append(value);
            return;
        }
        line.Append('"').Append(value.Replace("\"", "\"\"", StringComparison.Ordinal)).Append('"');
    }

    private sealed class CsvResult(string name, string[] columns, IEnumerable<string?[]> rows, string? nextCursor) : IResult
    {
        public Task ExecuteAsync(HttpContext context)
        {
            var text = new StringBuilder();
            text.AppendJoin(',', columns).Append("\r\n");
            foreach (var row in rows)
            {
                for (var i = 0; i < row.Length; i++)
                {
                    if (i > 0) text.Append(',');
                    AppendField(text, row[i]);
                }
                text.Append("\r\n");
            }
            var bytes = Encoding.UTF8.GetBytes(text.ToString());
            var response = context.Response;
            response.StatusCode = StatusCodes.Status200OK;
            response.ContentType = ContentType + "; charset=utf-8; header=present";
            response.ContentLength = bytes.Length;
            response.Headers.ContentDisposition = $"inline; filename=\"{name}.csv\"";
            if (nextCursor is not null) response.Headers.Link = $"<{NextPage(context.Request, nextCursor)}>; rel=\"next\"";
            return response.Body.WriteAsync(bytes).AsTask();
        }

        /// <summary>The same request (path and query) with <c>cursor</c> set to the next page's.</summary>
        private static string NextPage(HttpRequest request, string cursor)
        {
            var query = new Dictionary<string, StringValues>(request.Query.Where(q => !q.Key.Equals("cursor", StringComparison.OrdinalIgnoreCase)),
                StringComparer.OrdinalIgnoreCase)
            {
                ["cursor"] = cursor,
            };
            return request.PathBase.Add(request.Path).ToUriComponent() + QueryString.Create(query).ToUriComponent();
        }
    }
}
