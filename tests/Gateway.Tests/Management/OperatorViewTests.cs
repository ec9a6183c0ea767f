using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Gateway.Licensing.Rules;
using Gateway.Management;
using Gateway.Tests.Support;
using static Gateway.Tests.Support.GatewayRequests;

namespace Gateway.Tests.Management;

/// <summary>
/// The operator's tenant list (<c>GET /v1/tenants</c>, paged) and CSV answers of every list route
/// (<c>Accept: text/csv</c>): header row, the JSON fields, RFC 4180 quoting, spreadsheet formulas
/// defused, the next page in a <c>Link</c> header.
/// </summary>
public sealed class OperatorViewTests(OperatorViewTests.Fixture fixture) : IClassFixture<OperatorViewTests.Fixture>
{
    private static readonly string Operator = TestTokens.User("ops", "olga", ("role", ManagementCaller.OperatorRole));

    public sealed class Fixture : GatewayFixture
    {
        protected override void Configure(GatewayFactory gateway) => gateway
            .WithTenant("views", LicenseModel.RegisteredUsers, 5, activeUsers: ["alice"]);
    }

    private static HttpRequestMessage Send(HttpMethod method, string path, string token, string? body = null, string? accept = null)
    {
        var request = new HttpRequestMessage(method, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        if (body is not null) request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        if (accept is not null) request.Headers.TryAddWithoutValidation("Accept", accept);
        return request;
    }

    private async Task<string> CreateTenantAsync(string prefix, string model = "ConcurrentSessions", int seats = 7)
    {
        var tenant = $"{prefix}-{Guid.NewGuid():N}"[..20];
        using var r = await fixture.Client.SendAsync(Send(HttpMethod.Put, $"/_licensing/v1/tenants/{tenant}", Operator, $$"""{"model":"{{model}}","seatLimit":{{seats}}}"""));
        Assert.Equal(HttpStatusCode.Created, r.StatusCode);
        return tenant;
    }

    private async Task<JsonElement> JsonAsync(string path, string token)
    {
        using var r = await fixture.Client.SendAsync(Send(HttpMethod.Get, path, token));
        var text = await r.Content.ReadAsStringAsync();
        Assert.True(r.StatusCode == HttpStatusCode.OK, $"{path}: {(int)r.StatusCode} {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    private async Task<(HttpResponseMessage Response, string[] Lines)> CsvAsync(string path, string token)
    {
        var r = await fixture.Client.SendAsync(Send(HttpMethod.Get, path, token, accept: "text/csv"));
        var text = await r.Content.ReadAsStringAsync();
        Assert.True(r.StatusCode == HttpStatusCode.OK, $"{path}: {(int)r.StatusCode} {text}");
        Assert.Equal("text/csv", r.Content.Headers.ContentType?.MediaType);
        Assert.EndsWith("\r\n", text, StringComparison.Ordinal);
        return (r, text[..^2].Split("\r\n"));
    }

    [Fact]
    public async Task The_operator_lists_every_tenant_page_by_page_with_its_counts()
    {
        var mine = new[] { await CreateTenantAsync("list-a"), await CreateTenantAsync("list-b", "RegisteredUsers", 3), await CreateTenantAsync("list-c") };
        await (await fixture.Client.SendAsync(Get("/api/x", TestTokens.User(mine[0], "u1")))).AssertForwardedAsync();

        var seen = new List<JsonElement>();
        string? cursor = null;
        do
        {
            var page = await JsonAsync("/_licensing/v1/tenants?limit=2" + (cursor is null ? "" : "&cursor=" + Uri.EscapeDataString(cursor)), Operator);
            var items = page.GetProperty("tenants").EnumerateArray().ToArray();
            Assert.True(items.Length <= 2);
            seen.AddRange(items);
            cursor = page.GetProperty("nextCursor").GetString();
        }
        while (cursor is not null);

        var ids = seen.Select(t => t.GetProperty("tenant").GetString()!).ToArray();
        Assert.Equal(ids.Order(StringComparer.Ordinal), ids);
        Assert.Equal(ids.Length, ids.Distinct().Count());
        Assert.Superset(new HashSet<string>(mine.Append("views")), new HashSet<string>(ids));
        var a = seen.Single(t => t.GetProperty("tenant").GetString() == mine[0]);
        Assert.Equal("ConcurrentSessions", a.GetProperty("model").GetString());
        Assert.Equal(7, a.GetProperty("seatLimit").GetInt32());
        Assert.Equal(1, a.GetProperty("activeSessions").GetInt32());
        Assert.Equal(0, a.GetProperty("activeUsers").GetInt32());
        Assert.Equal("enforce", a.GetProperty("enforcement").GetString());
        var views = seen.Single(t => t.GetProperty("tenant").GetString() == "views");
        Assert.Equal(1, views.GetProperty("activeUsers").GetInt32());
    }

    [Fact]
    public async Task The_tenant_list_is_for_operators_only()
    {
        using (var admin = await fixture.Client.SendAsync(Send(HttpMethod.Get, "/_licensing/v1/tenants", TestTokens.User("views", "adam", ("role", ManagementCaller.AdminRole)))))
            await admin.AssertProblemAsync(HttpStatusCode.Forbidden, "forbidden");
        using (var anonymous = await fixture.Client.SendAsync(new HttpRequestMessage(HttpMethod.Get, "/_licensing/v1/tenants")))
            await anonymous.AssertProblemAsync(HttpStatusCode.Unauthorized, "token-missing");
    }

    [Theory]
    [InlineData("limit=0")]
    [InlineData("limit=1001")]
    [InlineData("limit=x")]
    [InlineData("cursor=%%%")]
    [InlineData("cursor=bm90IGEgdGVuYW50IQ")]
    public async Task A_bad_page_request_is_400_invalid_request(string query)
    {
        using var r = await fixture.Client.SendAsync(Send(HttpMethod.Get, "/_licensing/v1/tenants?" + query, Operator));
        await r.AssertProblemAsync(HttpStatusCode.BadRequest, "invalid-request");
    }

    [Fact]
    public async Task Users_as_csv_have_a_header_row_quoting_and_no_live_formulas()
    {
        var tenant = await CreateTenantAsync("csv-users", "RegisteredUsers", 10);
        var odd = new[] { "plain", "with,comma", "with \"quote\"", "=HYPERLINK(\"http://x\")", "+1", "-2", "@cmd", " spaced " };
        var body = JsonSerializer.Serialize(new { users = odd.Select(u => new { userId = u, active = u == "plain" }) });
        using (var r = await fixture.Client.SendAsync(Send(HttpMethod.Patch, $"/_licensing/v1/tenants/{tenant}/users", Operator, body)))
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);

        var (_, lines) = await CsvAsync($"/_licensing/v1/tenants/{tenant}/users", Operator);

        Assert.Equal("userId,active,sessions,lastSeenAt", lines[0]);
        var rows = lines.Skip(1).ToArray();
        Assert.Equal(odd.Length, rows.Length);
        Assert.Contains("plain,true,0,", rows);
        Assert.Contains("\"with,comma\",false,0,", rows);
        Assert.Contains("\"with \"\"quote\"\"\",false,0,", rows);
        Assert.Contains("\"'=HYPERLINK(\"\"http://x\"\")\",false,0,", rows);
        Assert.Contains("'+1,false,0,", rows);
        Assert.Contains("'-2,false,0,", rows);
        Assert.Contains("'@cmd,false,0,", rows);
        Assert.Contains("\" spaced \",false,0,", rows);
        Assert.DoesNotContain(rows, row => row[0] is '=' or '+' or '-' or '@');
    }

    [Fact]
    public async Task A_csv_page_names_the_next_page_in_a_link_header()
    {
        var tenant = await CreateTenantAsync("csv-pages", "RegisteredUsers", 10);
        var body = JsonSerializer.Serialize(new { users = Enumerable.Range(0, 5).Select(i => new { userId = $"u{i}", active = false }) });
        using (var r = await fixture.Client.SendAsync(Send(HttpMethod.Patch, $"/_licensing/v1/tenants/{tenant}/users", Operator, body)))
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);

        var all = new List<string>();
        var path = $"/_licensing/v1/tenants/{tenant}/users?limit=2";
        for (var pages = 0; path is not null; pages++)
        {
            Assert.True(pages < 10);
            var (response, lines) = await CsvAsync(path, Operator);
            Assert.Equal("userId,active,sessions,lastSeenAt", lines[0]);
            all.AddRange(lines.Skip(1).Select(l => l.Split(',')[0]));
            var link = response.Headers.TryGetValues("Link", out var values) ? values.Single() : null;
            path = link is null ? null : link[1..link.IndexOf('>')];
            if (link is not null) Assert.EndsWith("; rel=\"next\"", link, StringComparison.Ordinal);
        }
        Assert.Equal(["u0", "u1", "u2", "u3", "u4"], all);
    }

    [Fact]
    public async Task Sessions_audit_usage_and_tenants_answer_csv_with_the_json_fields()
    {
        var tenant = await CreateTenantAsync("csv-all", "ConcurrentSessions", 5);
        await (await fixture.Client.SendAsync(Get("/api/x", TestTokens.User(tenant, "=bob"), device: "@dev"))).AssertForwardedAsync();

        var (_, sessions) = await CsvAsync($"/_licensing/v1/tenants/{tenant}/sessions", Operator);
        Assert.Equal("sessionId,userId,clientKind,deviceId,startedAt,lastSeenAt,expiresAt,borrowed", sessions[0]);
        var session = Assert.Single(sessions.Skip(1));
        var fields = session.Split(',');
        Assert.Equal(["'=bob", "desktop", "'@dev"], fields[1..4]);
        Assert.Equal("false", fields[7]);
        Assert.True(DateTimeOffset.TryParse(fields[4], out _));

        var (_, audit) = await CsvAsync($"/_licensing/v1/tenants/{tenant}/audit", Operator);
        Assert.Equal("at,action,actor,userId,sessionId,reason,clientKind,deviceId,model,seatLimit,reservedUsers,fromConfiguration", audit[0]);
        Assert.Contains(audit, l => l.Contains(",session-started,", StringComparison.Ordinal) && l.Contains(",'=bob,", StringComparison.Ordinal));
        Assert.Contains(audit, l => l.Contains(",plan-changed,olga@ops,", StringComparison.Ordinal) && l.Contains(",ConcurrentSessions,5,", StringComparison.Ordinal));

        var (_, usage) = await CsvAsync($"/_licensing/v1/tenants/{tenant}/usage", Operator);
        Assert.Equal("date,peakSessions,peakActiveUsers", usage[0]);
        var today = Assert.Single(usage.Skip(1));
        Assert.StartsWith(DateTime.UtcNow.ToString("yyyy-MM-dd") + ",1,", today, StringComparison.Ordinal);

        var (_, tenants) = await CsvAsync("/_licensing/v1/tenants?limit=1000", Operator);
        Assert.Equal("tenant,model,seatLimit,activeUsers,activeSessions,enforcement", tenants[0]);
        Assert.Contains($"{tenant},ConcurrentSessions,5,0,1,enforce", tenants);
    }

    [Fact]
    public async Task Json_stays_the_default_and_a_refusal_stays_problem_json_when_csv_is_asked()
    {
        using (var json = await fixture.Client.SendAsync(Send(HttpMethod.Get, "/_licensing/v1/tenants/views/users", Operator, accept: "application/json, text/csv;q=0.5")))
            Assert.Equal("application/json", json.Content.Headers.ContentType?.MediaType);
        using (var any = await fixture.Client.SendAsync(Send(HttpMethod.Get, "/_licensing/v1/tenants/views/users", Operator, accept: "*/*")))
            Assert.Equal("application/json", any.Content.Headers.ContentType?.MediaType);
        using (var missing = await fixture.Client.SendAsync(Send(HttpMethod.Get, "/_licensing/v1/tenants/no-such-tenant/users", Operator, accept: "text/csv")))
            await missing.AssertProblemAsync(HttpStatusCode.NotFound, "tenant-not-found");
    }

    [Fact]
    public async Task The_openapi_document_describes_the_tenant_list_and_the_csv_answers()
    {
        using var r = await fixture.Client.GetAsync("/_licensing/openapi/v1.json");
        var paths = JsonDocument.Parse(await r.Content.ReadAsStringAsync()).RootElement.GetProperty("paths");

        var list = paths.GetProperty("/_licensing/v1/tenants").GetProperty("get");
        Assert.True(list.GetProperty("responses").GetProperty("200").GetProperty("content").TryGetProperty("text/csv", out _));
        foreach (var path in new[] { "users", "sessions", "audit", "usage" })
        {
            var ok = paths.GetProperty("/_licensing/v1/tenants/{tenant}/" + path).GetProperty("get").GetProperty("responses").GetProperty("200");
            Assert.True(ok.GetProperty("content").TryGetProperty("text/csv", out _), path);
            Assert.True(ok.GetProperty("content").TryGetProperty("application/json", out _), path);
        }
        var unauthorized = list.GetProperty("responses").GetProperty("401").GetProperty("description").GetString();
        Assert.Contains("token-missing", unauthorized, StringComparison.Ordinal);
    }
}
