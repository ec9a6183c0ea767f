using Gateway.Problems;
using System.Text.Json;
using Gateway.Management;

namespace Gateway.Tests.Management;

/// <summary>Malformed bodies, wrong types, bad limits, unknown models, hostile ids: 4xx problem+json, store unchanged.</summary>
[Collection("management")]
public sealed class ValidationTests(ManagementFixture fixture)
{
    private static readonly string Long = new('x', 129);

    /// <summary>A .NET type or namespace (<c>System.Int32</c>, <c>Gateway.Management.PlanRequest</c>), an exception name or a stack frame.</summary>
    internal static readonly System.Text.RegularExpressions.Regex InternalNames =
        new(@"\b(System|Microsoft|Gateway)\.[A-Z]|\.NET\b|Exception\b|\bat [A-Z]\w*\.\w+\(");

    public static TheoryData<string, string, string?, int, string> Cases()
    {
        var data = new TheoryData<string, string, string?, int, string>();
        void Bad(string method, string path, string? body) => data.Add(method, path, body, 400, ProblemCodes.InvalidRequest);

        // PUT tenant: syntax, shape, types, nulls, missing and unknown members, ranges.
        foreach (var body in new[]
        {
            "", "{", "[]", "null", "\"x\"", "42", "{}", "{\"model\":\"RegisteredUsers\"}", "{\"seatLimit\":5}",
            "{\"model\":\"Foo\",\"seatLimit\":5}", "{\"model\":\"registeredusers\",\"seatLimit\":5}", "{\"model\":\"\",\"seatLimit\":5}",
            "{\"model\":0,\"seatLimit\":5}", "{\"model\":\"1\",\"seatLimit\":5}", "{\"model\":\"RegisteredUsers, ConcurrentSessions\",\"seatLimit\":5}",
            "{\"model\":null,\"seatLimit\":5}", "{\"model\":\"RegisteredUsers\",\"seatLimit\":null}",
            "{\"model\":\"RegisteredUsers\",\"seatLimit\":\"5\"}", "{\"model\":\"RegisteredUsers\",\"seatLimit\":-1}",
            "{\"model\":\"RegisteredUsers\",\"seatLimit\":0}", "{\"model\":\"RegisteredUsers\",\"seatLimit\":1000001}",
            "{\"model\":\"RegisteredUsers\",\"seatLimit\":2147483648}", "{\"model\":\"RegisteredUsers\",\"seatLimit\":1e20}",
            "{\"model\":\"RegisteredUsers\",\"seatLimit\":5.5}", "{\"model\":\"RegisteredUsers\",\"seatLimit\":true}",
            "{\"model\":\"RegisteredUsers\",\"seatLimit\":5,\"extra\":1}", "{\"model\":\"RegisteredUsers\",\"seatLimit\":5,\"seatLimit\":6}",
            "{\"Model\":\"RegisteredUsers\",\"SeatLimit\":5}", "{\"model\":\"RegisteredUsers\",\"seatLimit\":5,}",
            "{\"model\":\"RegisteredUsers\",/*c*/\"seatLimit\":5}", "{\"model\":\"RegisteredUsers\",\"seatLimit\":5} trailing",
            "{\"model\":\"ConcurrentSessions\",\"seatLimit\":1,\"reservedUsers\":[\"a\",\"b\"]}",
            "{\"model\":\"ConcurrentSessions\",\"seatLimit\":5,\"reservedUsers\":[null]}",
            "{\"model\":\"ConcurrentSessions\",\"seatLimit\":5,\"reservedUsers\":[\"a\",\"a\"]}",
            "{\"model\":\"ConcurrentSessions\",\"seatLimit\":5,\"reservedUsers\":[\"a\\u0000b\"]}",
            "{\"model\":\"ConcurrentSessions\",\"seatLimit\":5,\"reservedUsers\":[\"\"]}",
            $"{{\"model\":\"ConcurrentSessions\",\"seatLimit\":5,\"reservedUsers\":[\"{Long}\"]}}",
            "{\"model\":\"ConcurrentSessions\",\"seatLimit\":5,\"reservedUsers\":[\"caf\u00e9\"]}",
            "{\"model\":\"ConcurrentSessions\",\"seatLimit\":5,\"reservedUsers\":\"a\"}",
            "{\"model\":\"ConcurrentSessions\",\"seatLimit\":5,\"reservedUsers\":[[[[[[[[[[\"a\"]]]]]]]]]]}",
        })
            Bad("PUT", "tenants/{t}", body);

        // PUT user: body and hostile ids in the path.
        foreach (var body in new[] { "", "{}", "[]", "{\"active\":\"true\"}", "{\"active\":null}", "{\"active\":1}", "{\"active\":tru}", "{\"active\":true,\"x\":1}" })
            Bad("PUT", "tenants/{t}/users/alice", body);
        foreach (var user in new[] { "%01", Long, "%C3%A9", "a%0Ab", "%7F", "a%09b" })
            Bad("PUT", "tenants/{t}/users/" + user, "{\"active\":true}");

        // PATCH users.
        foreach (var body in new[]
        {
            "{}", "{\"users\":null}", "{\"users\":\"a\"}", "{\"users\":[null]}", "{\"users\":[{\"userId\":\"a\"}]}",
            "{\"users\":[{\"active\":true}]}", "{\"users\":[{\"userId\":null,\"active\":true}]}", "{\"users\":[{\"userId\":\"\",\"active\":true}]}",
            "{\"users\":[{\"userId\":\"a\",\"active\":true},{\"userId\":\"a\",\"active\":false}]}",
            $"{{\"users\":[{{\"userId\":\"{Long}\",\"active\":true}}]}}", "{\"users\":[{\"userId\":\"a\",\"active\":true,\"x\":0}]}",
            "@too-many-users", "@body-over-4-mib",
        })
            Bad("PATCH", "tenants/{t}/users", body);

        // Swap.
        foreach (var body in new[]
        {
            "{\"deactivate\":\"alice\",\"activate\":\"alice\"}", "{\"deactivate\":\"alice\"}", "{\"deactivate\":\"alice\",\"activate\":null}",
            $"{{\"deactivate\":\"alice\",\"activate\":\"{Long}\"}}", "{\"deactivate\":\"alice\",\"activate\":\"b\\nc\"}",
            "{\"deactivate\":\"alice\",\"activate\":\"bob\",\"x\":1}", "{\"deactivate\":1,\"activate\":\"bob\"}",
        })
            Bad("POST", "tenants/{t}/users/swap", body);

        // Query parameters.
        foreach (var query in new[] { "limit=0", "limit=-1", "limit=1001", "limit=abc", "limit=99999999999", "limit=1.5", "limit=", "limit=%2B5",
                     "active=yes", "active=True", "active=", "cursor=!!!", "cursor=", $"cursor={new string('A', 2000)}" })
            Bad("GET", "tenants/{t}/users?" + query, null);
        foreach (var query in new[] { "limit=0", "limit=5000", "cursor=short", "cursor=", "userId=", $"userId={Long}", "userId=%00" })
            Bad("GET", "tenants/{t}/sessions?" + query, null);
        foreach (var query in new[] { "since=garbage", "since=2025-13-01", "since=", "since=1900-01-01T00:00:00Z", "limit=0", "limit=2000", "cursor=xyz", "cursor=LTE6MA" })
            Bad("GET", "tenants/{t}/audit?" + query, null);
        foreach (var query in new[] { "from=2025-13-01", "to=x", "from=2025-02-01&to=2025-01-01", "from=2020-01-01&to=2025-01-01", "from=1969-12-31&to=1970-01-01", "from=01/02/2025" })
            Bad("GET", "tenants/{t}/usage?" + query, null);
        foreach (var query in new[] { "limit=0", "cursor=short" })
            Bad("GET", "me/sessions?" + query, null);

        // Tenant ids an operator may send but that can never exist.
        foreach (var tenant in new[] { "bad%20tenant", new string('t', 65), "a%2Fb", "a%7Bb%7D", "caf%C3%A9" })
        {
            Bad("GET", $"tenants/{tenant}", null);
            Bad("PUT", $"tenants/{tenant}", "{\"model\":\"RegisteredUsers\",\"seatLimit\":5}");
            Bad("PUT", $"tenants/{tenant}/users/alice", "{\"active\":true}");
        }

        // Session ids: unknown or malformed is 404.
        foreach (var id in new[] { "short", "AAAAAAAAAAAAAAAAAAAAA!", "AAAAAAAAAAAAAAAAAAAAAA", new string('A', 23) })
        {
            data.Add("DELETE", $"tenants/{{t}}/sessions/{id}", null, 404, ProblemCodes.SessionNotFound);
            data.Add("DELETE", $"me/sessions/{id}", null, 404, ProblemCodes.SessionNotFound);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Refused_with_problem_json_and_the_store_is_unchanged(string method, string path, string? body, int status, string code)
    {
        var tenant = await fixture.CreateTenantAsync(seatLimit: 5, activeUsers: ["alice"]);
        await fixture.Host.Store.SetUserActiveAsync(tenant, "bob", false, "test");
        await fixture.AdmitAsync(tenant, "alice");
        var before = await fixture.FingerprintAsync(tenant);
        var tenantsBefore = await fixture.Host.Store.ListTenantsAsync();

        var token = path.StartsWith("me/", StringComparison.Ordinal)
            ? ManagementHost.Token(tenant, "alice")
            : ManagementHost.Token("ops", "olga", ManagementCaller.OperatorRole);
        body = body switch
        {
            // Generated here so that test names stay short.
            "@too-many-users" => JsonSerializer.Serialize(new { users = Enumerable.Range(0, ManagementApi.MaxBulkUsers + 1).Select(i => new { userId = $"u{i}", active = false }) }),
            "@body-over-4-mib" => "{\"users\":[" + new string(' ', 5 * 1024 * 1024) + "]}",
            _ => body,
        };
        using var response = await fixture.Host.SendAsync(new HttpMethod(method), path.Replace("{t}", tenant), token, body);

        var problem = await ProblemAssert.IsProblemAsync(response, status, code);
        Assert.False(string.IsNullOrEmpty(problem.GetProperty("title").GetString()));
        // The detail explains the refusal in the API's own terms: no .NET type, namespace or stack frame.
        Assert.DoesNotMatch(InternalNames, problem.GetProperty("detail").GetString()!);
        Assert.Equal(before, await fixture.FingerprintAsync(tenant));
        Assert.Equal(tenantsBefore, await fixture.Host.Store.ListTenantsAsync());
    }

    [Fact]
    public async Task A_body_sent_without_a_json_content_type_is_still_read_strictly()
    {
        var tenant = await fixture.CreateTenantAsync(seatLimit: 5);
        using var response = await fixture.Host.SendAsync(HttpMethod.Put, $"tenants/{tenant}/users/alice",
            ManagementHost.Token(tenant, "frank", ManagementCaller.AdminRole), configure: m =>
                m.Content = new StringContent("{\"active\":true}", System.Text.Encoding.UTF8, "application/x-www-form-urlencoded"));
        Assert.Equal(System.Net.HttpStatusCode.Created, response.StatusCode);
    }
}
