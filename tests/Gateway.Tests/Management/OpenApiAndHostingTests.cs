using Gateway.Problems;
using System.Net;
using System.Text.Json;
using Gateway.Management;
using Microsoft.AspNetCore.Builder;
using StackExchange.Redis;

namespace Gateway.Tests.Management;

[Collection("management")]
public sealed class OpenApiAndHostingTests(ManagementFixture fixture)
{
    private static readonly (string Method, string Path)[] Operations =
    [
        ("get", "/_licensing/v1/tenants/{tenant}"),
        ("put", "/_licensing/v1/tenants/{tenant}"),
        ("get", "/_licensing/v1/tenants/{tenant}/users"),
        ("patch", "/_licensing/v1/tenants/{tenant}/users"),
        ("post", "/_licensing/v1/tenants/{tenant}/users/swap"),
        ("put", "/_licensing/v1/tenants/{tenant}/users/{userId}"),
        ("get", "/_licensing/v1/tenants/{tenant}/sessions"),
        ("delete", "/_licensing/v1/tenants/{tenant}/sessions/{sessionId}"),
        ("get", "/_licensing/v1/tenants/{tenant}/audit"),
        ("get", "/_licensing/v1/tenants/{tenant}/usage"),
        ("get", "/_licensing/v1/me/sessions"),
        ("delete", "/_licensing/v1/me/sessions/{sessionId}"),
    ];

    [Fact]
    public async Task The_openapi_document_is_anonymous_and_describes_every_route_body_response_and_problem_code()
    {
        using var response = await fixture.Host.SendAsync(HttpMethod.Get, "/_licensing/openapi/v1.json", token: null);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        var doc = JsonDocument.Parse(text).RootElement;
        Assert.StartsWith("3.", doc.GetProperty("openapi").GetString());
        var paths = doc.GetProperty("paths");
        foreach (var (method, path) in Operations)
        {
            Assert.True(paths.TryGetProperty(path, out var item), $"missing path {path}");
            Assert.True(item.TryGetProperty(method, out var op), $"missing {method} {path}");
            Assert.False(string.IsNullOrEmpty(op.GetProperty("summary").GetString()));
            var responses = op.GetProperty("responses");
            Assert.True(responses.TryGetProperty("401", out _), $"{method} {path}: no 401");
            Assert.True(responses.TryGetProperty("503", out _), $"{method} {path}: no 503");
            Assert.True(op.TryGetProperty("security", out _), $"{method} {path}: no security requirement");
            Assert.Contains(responses.EnumerateObject(), r => r.Name.StartsWith('2'));
        }

        string[] Codes(string path, string method, string status) =>
            paths.GetProperty(path).GetProperty(method).GetProperty("responses").GetProperty(status)
                .GetProperty("x-problem-codes").EnumerateArray().Select(c => c.GetString()!).ToArray();

        Assert.Equal(["seat-limit-below-active-users", "plan-managed-by-config"], Codes("/_licensing/v1/tenants/{tenant}", "put", "409"));
        Assert.Equal(["forbidden"], Codes("/_licensing/v1/tenants/{tenant}", "put", "403"));
        Assert.Equal(["seat-limit-reached", "user-limit-reached"], Codes("/_licensing/v1/tenants/{tenant}/users/{userId}", "put", "409"));
        Assert.Equal(["seat-limit-reached", "user-limit-reached"], Codes("/_licensing/v1/tenants/{tenant}/users", "patch", "409"));
        Assert.Equal(["seat-limit-reached", "user-limit-reached"], Codes("/_licensing/v1/tenants/{tenant}/users/swap", "post", "409"));
        // Every admin write may be 503 store-not-durable; reads only store-unavailable.
        foreach (var (method, path) in Operations)
        {
            string[] expected = method == "get" ? ["store-unavailable"] : ["store-unavailable", "store-not-durable"];
            Assert.Equal(expected, Codes(path, method, "503"));
        }
        var planProperties = doc.GetProperty("components").GetProperty("schemas").GetProperty("PlanRequest").GetProperty("properties");
        Assert.True(planProperties.TryGetProperty("maxSessionsPerUser", out _));
        Assert.True(doc.GetProperty("components").GetProperty("schemas").GetProperty("TenantResponse").GetProperty("properties").TryGetProperty("maxSessionsPerUser", out _));
        Assert.Equal(["tenant-not-found", "session-not-found"], Codes("/_licensing/v1/tenants/{tenant}/sessions/{sessionId}", "delete", "404"));
        Assert.Contains("invalid-request", Codes("/_licensing/v1/tenants/{tenant}/users", "patch", "400"));
        Assert.Equal(["identity-incomplete"], Codes("/_licensing/v1/me/sessions", "get", "403"));
        Assert.Equal(["store-unavailable"], Codes("/_licensing/v1/me/sessions", "get", "503"));

        // Bodies and response shapes.
        var put = paths.GetProperty("/_licensing/v1/tenants/{tenant}").GetProperty("put");
        Assert.True(put.GetProperty("requestBody").GetProperty("content").TryGetProperty("application/json", out _));
        Assert.True(put.GetProperty("responses").TryGetProperty("201", out _));
        var schemas = doc.GetProperty("components").GetProperty("schemas");
        foreach (var name in new[] { "PlanRequest", "UserActivationRequest", "BulkActivationRequest", "SwapRequest", "TenantResponse", "UserListResponse", "SessionListResponse", "SwapResponse", "AuditListResponse", "UsageResponse" })
            Assert.True(schemas.TryGetProperty(name, out _), $"missing schema {name}");
        var session = schemas.GetProperty("SessionResponse").GetProperty("properties");
        Assert.Equal(["sessionId", "userId", "clientKind", "deviceId", "startedAt", "lastSeenAt", "expiresAt", "borrowed"], session.EnumerateObject().Select(p => p.Name).ToArray());
        var kinds = SchemaEnum(schemas, session.GetProperty("clientKind"));
        Assert.Equal(["desktop", "web", "mobile", "service"], kinds);
        var models = SchemaEnum(schemas, schemas.GetProperty("TenantResponse").GetProperty("properties").GetProperty("model"));
        Assert.Equal(["RegisteredUsers", "ConcurrentSessions"], models);
        var plan = schemas.GetProperty("PlanRequest").GetProperty("properties");
        Assert.Equal(["RegisteredUsers", "ConcurrentSessions"], plan.GetProperty("model").GetProperty("enum").EnumerateArray().Select(e => e.GetString()!).ToArray());
        Assert.Equal("integer", plan.GetProperty("seatLimit").GetProperty("type").GetString());
        Assert.Equal(["enforce", "shadow"], plan.GetProperty("enforcement").GetProperty("enum").EnumerateArray().Select(e => e.GetString()!).ToArray());
        Assert.Equal(["enforce", "shadow"], schemas.GetProperty("TenantResponse").GetProperty("properties").GetProperty("enforcement").GetProperty("enum").EnumerateArray().Select(e => e.GetString()!).ToArray());
        var limit = paths.GetProperty("/_licensing/v1/tenants/{tenant}/users").GetProperty("get").GetProperty("parameters").EnumerateArray()
            .Single(p => p.GetProperty("name").GetString() == "limit").GetProperty("schema");
        Assert.Equal("integer", limit.GetProperty("type").GetString());
        Assert.Equal(1000, limit.GetProperty("maximum").GetInt32());
        Assert.Equal("bearer", doc.GetProperty("components").GetProperty("securitySchemes").GetProperty("Bearer").GetProperty("scheme").GetString());
    }

    private static string[] SchemaEnum(JsonElement schemas, JsonElement schema)
    {
        if (schema.TryGetProperty("$ref", out var reference))
            schema = schemas.GetProperty(reference.GetString()!.Split('/')[^1]);
        return schema.GetProperty("enum").EnumerateArray().Select(e => e.GetString()!).ToArray();
    }

    [Fact]
    public async Task The_api_reference_page_is_served_in_development_only()
    {
        var path = "/_licensing/docs";
        for (var hops = 0; ; hops++)
        {
            using var dev = await fixture.Host.SendAsync(HttpMethod.Get, path, token: null);
            if (dev.StatusCode is HttpStatusCode.Found or HttpStatusCode.MovedPermanently && hops < 3)
            {
                path = new Uri(new Uri("http://gateway" + path), dev.Headers.Location!).AbsolutePath;
                Assert.StartsWith("/_licensing/docs", path);
                continue;
            }
            Assert.Equal(HttpStatusCode.OK, dev.StatusCode);
            Assert.Equal("text/html", dev.Content.Headers.ContentType?.MediaType);
            var html = await dev.Content.ReadAsStringAsync();
            Assert.True(html.Contains("openapi/v1.json", StringComparison.Ordinal), html);
            break;
        }
        await using var production = await ManagementHost.StartAsync(fixture.Redis.Connection, environment: "Production");
        using (var prod = await production.SendAsync(HttpMethod.Get, "/_licensing/docs", token: null))
            Assert.Equal(HttpStatusCode.NotFound, prod.StatusCode);
        using (var doc = await production.SendAsync(HttpMethod.Get, "/_licensing/openapi/v1.json", token: null))
            Assert.Equal(HttpStatusCode.OK, doc.StatusCode);
    }

    [Fact]
    public async Task With_a_management_port_tenant_routes_and_openapi_answer_only_there_and_me_everywhere()
    {
        var tenant = await fixture.CreateTenantAsync(activeUsers: ["alice"]);
        const int managementPort = 9091;
        var localPort = 8080;
        await using var host = await ManagementHost.StartAsync(fixture.Redis.Connection,
            configure: o => o.ManagementPort = managementPort,
            beforeMapping: app => app.Use((context, next) =>
            {
                context.Connection.LocalPort = localPort;
                return next(context);
            }));
        var op = ManagementHost.Token("ops", "olga", ManagementCaller.OperatorRole);

        // Elsewhere the tenant routes do not exist: 404 before authentication (the host maps its
        // problem+json fallback for unmatched management paths).
        using (var r = await host.SendAsync(HttpMethod.Get, $"tenants/{tenant}", op))
            Assert.Equal(HttpStatusCode.NotFound, r.StatusCode);
        using (var r = await host.SendAsync(HttpMethod.Get, $"tenants/{tenant}", token: null))
            Assert.Equal(HttpStatusCode.NotFound, r.StatusCode);
        using (var r = await host.SendAsync(HttpMethod.Delete, $"tenants/{tenant}/sessions/AAAAAAAAAAAAAAAAAAAAAA", op))
            Assert.Equal(HttpStatusCode.NotFound, r.StatusCode);
        using (var r = await host.SendAsync(HttpMethod.Get, "/_licensing/openapi/v1.json", null))
            Assert.Equal(HttpStatusCode.NotFound, r.StatusCode);
        using (var r = await host.SendAsync(HttpMethod.Get, "me/sessions", ManagementHost.Token(tenant, "alice")))
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);

        localPort = managementPort;
        using (var r = await host.SendAsync(HttpMethod.Get, $"tenants/{tenant}", op))
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        using (var r = await host.SendAsync(HttpMethod.Get, "/_licensing/openapi/v1.json", null))
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
    }

    [Fact]
    public async Task A_dead_store_is_503_store_unavailable_with_retry_after()
    {
        var options = ConfigurationOptions.Parse("127.0.0.1:1,abortConnect=false,connectTimeout=200,asyncTimeout=500,syncTimeout=500");
        options.BacklogPolicy = BacklogPolicy.FailFast;
        await using var dead = await ConnectionMultiplexer.ConnectAsync(options);
        await using var host = await ManagementHost.StartAsync(dead);
        using var r = await host.SendAsync(HttpMethod.Get, "tenants/t1", ManagementHost.Token("ops", "olga", ManagementCaller.OperatorRole));
        await ProblemAssert.IsProblemAsync(r, 503, ProblemCodes.StoreUnavailable);
        Assert.NotNull(r.Headers.RetryAfter);
    }
}
