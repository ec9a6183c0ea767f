using Gateway.Problems;
using System.Net;
using System.Security.Claims;
using System.Text.Json;
using Gateway.Licensing.Identity;
using Gateway.Licensing.Options;
using Gateway.Management;

namespace Gateway.Tests.Management;

/// <summary>Every caller kind × every v1 route (the roles table of docs/management-api.md).</summary>
[Collection("management")]
public sealed class AuthorizationMatrixTests(ManagementFixture fixture)
{
    public enum Access { OperatorOnly, TenantAdmin, Me }

    public sealed record Ctx(string Tenant, string AliceSession, string? MySession);

    public sealed record Route(string Name, HttpMethod Method, Func<Ctx, string> Path, string? Body, HttpStatusCode Success, Access Access, string? Device = null);

    public sealed record Caller(string Name, Func<string, string?> TenantOf, string? User, string[] Roles);

    private static readonly Route[] Routes =
    [
        new("get-tenant", HttpMethod.Get, c => $"tenants/{c.Tenant}", null, HttpStatusCode.OK, Access.TenantAdmin),
        new("put-tenant", HttpMethod.Put, c => $"tenants/{c.Tenant}", """{"model":"RegisteredUsers","seatLimit":10}""", HttpStatusCode.OK, Access.OperatorOnly),
        new("list-users", HttpMethod.Get, c => $"tenants/{c.Tenant}/users", null, HttpStatusCode.OK, Access.TenantAdmin),
        new("put-user", HttpMethod.Put, c => $"tenants/{c.Tenant}/users/carol", """{"active":true}""", HttpStatusCode.Created, Access.TenantAdmin),
        new("patch-users", HttpMethod.Patch, c => $"tenants/{c.Tenant}/users", """{"users":[{"userId":"carol","active":true}]}""", HttpStatusCode.OK, Access.TenantAdmin),
        new("swap-users", HttpMethod.Post, c => $"tenants/{c.Tenant}/users/swap", """{"deactivate":"alice","activate":"bob"}""", HttpStatusCode.OK, Access.TenantAdmin),
        new("list-sessions", HttpMethod.Get, c => $"tenants/{c.Tenant}/sessions", null, HttpStatusCode.OK, Access.TenantAdmin),
        new("delete-session", HttpMethod.Delete, c => $"tenants/{c.Tenant}/sessions/{c.AliceSession}", null, HttpStatusCode.NoContent, Access.TenantAdmin),
        new("audit", HttpMethod.Get, c => $"tenants/{c.Tenant}/audit", null, HttpStatusCode.OK, Access.TenantAdmin),
        new("usage", HttpMethod.Get, c => $"tenants/{c.Tenant}/usage", null, HttpStatusCode.OK, Access.TenantAdmin),
        new("me-sessions", HttpMethod.Get, _ => "me/sessions", null, HttpStatusCode.OK, Access.Me),
        new("me-delete", HttpMethod.Delete, c => $"me/sessions/{c.MySession}", null, HttpStatusCode.NoContent, Access.Me),
        new("me-delete-current", HttpMethod.Delete, _ => "me/sessions/current", null, HttpStatusCode.NoContent, Access.Me, Device: "me-dev"),
    ];

    private static readonly Caller[] Callers =
    [
        new("anonymous", _ => null, null, []),
        new("plain-user", t => t, "dave", []),
        new("admin-of-other-tenant", _ => "other", "erin", [ManagementCaller.AdminRole]),
        new("admin", t => t, "frank", [ManagementCaller.AdminRole]),
        new("operator", _ => "ops", "olga", [ManagementCaller.OperatorRole]),
    ];

    public static TheoryData<string, string> Cases()
    {
        var data = new TheoryData<string, string>();
        foreach (var route in Routes)
            foreach (var caller in Callers)
                data.Add(route.Name, caller.Name);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Caller_gets_exactly_what_its_role_allows(string routeName, string callerName)
    {
        var route = Routes.Single(r => r.Name == routeName);
        var caller = Callers.Single(c => c.Name == callerName);

        var tenant = await fixture.CreateTenantAsync(seatLimit: 10, activeUsers: ["alice", "dave", "frank"]);
        await fixture.Host.Store.SetUserActiveAsync(tenant, "bob", false, "test");
        var aliceSession = await fixture.AdmitAsync(tenant, "alice", "a-dev");

        // The caller's own tenant, with the caller active and holding one session.
        var callerTenant = caller.TenantOf(tenant) switch
        {
            null => null,
            "other" => await fixture.CreateTenantAsync(activeUsers: [caller.User!]),
            "ops" => await fixture.CreateTenantAsync(activeUsers: [caller.User!]),
            var t => t,
        };
        string? mySession = null;
        string? token = null;
        if (callerTenant is not null)
        {
            mySession = await fixture.AdmitAsync(callerTenant, caller.User!, "me-dev");
            token = ManagementHost.Token(callerTenant, caller.User, caller.Roles);
        }

        // An anonymous caller has no session of its own: any well-formed id will do.
        var ctx = new Ctx(tenant, aliceSession, mySession ?? aliceSession);
        var before = await fixture.FingerprintAsync(tenant);
        using var response = await fixture.Host.SendAsync(route.Method, route.Path(ctx), token, route.Body,
            r => { if (route.Device is not null) r.Headers.Add("X-Device-Id", route.Device); });

        var allowed = caller.Name switch
        {
            "anonymous" => false,
            "operator" => true,
            "admin" => route.Access != Access.OperatorOnly,
            _ => route.Access == Access.Me,
        };

        if (caller.Name == "anonymous")
        {
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            Assert.Contains(response.Headers.WwwAuthenticate, h => h.Scheme == "Bearer");
            Assert.Equal(before, await fixture.FingerprintAsync(tenant));
        }
        else if (!allowed)
        {
            await ProblemAssert.IsProblemAsync(response, 403, ProblemCodes.Forbidden);
            Assert.Equal(before, await fixture.FingerprintAsync(tenant));
        }
        else
        {
            var text = await response.Content.ReadAsStringAsync();
            Assert.True(route.Success == response.StatusCode, $"{(int)response.StatusCode}: {text}");
            if (route.Name == "me-sessions")
            {
                var sessions = JsonDocument.Parse(text).RootElement.GetProperty("sessions");
                Assert.Equal(mySession, Assert.Single(sessions.EnumerateArray()).GetProperty("sessionId").GetString());
            }
            if (route.Name is "me-delete" or "me-delete-current")
            {
                Assert.Empty((await fixture.Host.Queries.ListSessionsAsync(callerTenant!, caller.User, null, 10)).Sessions);
                // Nobody else's session ended.
                Assert.Single((await fixture.Host.Queries.ListSessionsAsync(tenant, "alice", null, 10)).Sessions);
            }
        }
    }

    [Fact]
    public void Role_claim_may_be_a_string_a_json_array_or_repeated_claims()
    {
        var options = new LicensingOptions();
        ClaimsPrincipal P(params Claim[] claims) => new(new ClaimsIdentity(claims, "test"));

        Assert.True(ManagementCaller.From(P(new Claim("role", "license-operator")), options).IsOperator);
        Assert.True(ManagementCaller.From(P(new Claim("role", """["x","license-admin"]""")), options).IsAdmin);
        var both = ManagementCaller.From(P(new Claim("role", "x"), new Claim("role", "license-operator"), new Claim("role", "license-admin")), options);
        Assert.True(both.IsOperator && both.IsAdmin);
        Assert.False(ManagementCaller.From(P(new Claim("roles", "license-operator")), options).IsOperator);
        Assert.False(ManagementCaller.From(P(new Claim("role", "License-Operator")), options).IsOperator);

        options.Claims.Role = "groups";
        Assert.True(ManagementCaller.From(P(new Claim("groups", "license-operator")), options).IsOperator);
    }

    [Fact]
    public async Task Admin_token_with_role_as_json_array_text_or_plain_string_works_over_http()
    {
        var tenant = await fixture.CreateTenantAsync();
        foreach (var role in new object[] { "license-admin", """["license-admin"]""", new[] { "reader", "license-admin" } })
        {
            var token = ManagementHost.Token(tenant, "frank", [], new Dictionary<string, object> { ["role"] = role });
            using var response = await fixture.Host.SendAsync(HttpMethod.Get, $"tenants/{tenant}", token);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
    }

    [Fact]
    public async Task Admin_tenant_comes_from_default_tenant_when_token_has_none_and_a_bad_tenant_claim_never_falls_back()
    {
        var tenant = await fixture.CreateTenantAsync();
        var options = new LicensingOptions { DefaultTenant = tenant };
        var noTenant = ManagementCaller.From(new ClaimsPrincipal(new ClaimsIdentity([new Claim("sub", "frank"), new Claim("role", "license-admin")], "t")), options);
        Assert.True(noTenant.MayAdminister(tenant));
        var badTenant = ManagementCaller.From(new ClaimsPrincipal(new ClaimsIdentity([new Claim("tid", "bad tenant"), new Claim("sub", "frank"), new Claim("role", "license-admin")], "t")), options);
        Assert.False(badTenant.MayAdminister(tenant));
        Assert.True(badTenant.HasInvalidIdentity);

        // Over HTTP, without DefaultTenant, an admin token without tenant administers nothing.
        using var response = await fixture.Host.SendAsync(HttpMethod.Get, $"tenants/{tenant}", ManagementHost.Token(null, "frank", ManagementCaller.AdminRole));
        await ProblemAssert.IsProblemAsync(response, 403, ProblemCodes.Forbidden);
    }

    [Fact]
    public async Task A_token_with_several_tenants_or_users_administers_nothing()
    {
        var tenant = await fixture.CreateTenantAsync(activeUsers: ["frank"]);
        await fixture.AdmitAsync(tenant, "frank");
        var twoTenants = ManagementHost.Token(null, "frank", [ManagementCaller.AdminRole], new Dictionary<string, object> { ["tid"] = new[] { tenant, "other" } });
        using (var r = await fixture.Host.SendAsync(HttpMethod.Get, $"tenants/{tenant}", twoTenants))
            await ProblemAssert.IsProblemAsync(r, 403, ProblemCodes.Forbidden);
        using (var r = await fixture.Host.SendAsync(HttpMethod.Get, "me/sessions", twoTenants))
            await ProblemAssert.IsProblemAsync(r, 400, ProblemCodes.InvalidIdentity);
        var twoClients = ManagementHost.Token(tenant, null, [], new Dictionary<string, object> { ["client_id"] = new[] { "app-a", "app-b" } });
        using (var r = await fixture.Host.SendAsync(HttpMethod.Get, "me/sessions", twoClients))
            await ProblemAssert.IsProblemAsync(r, 400, ProblemCodes.InvalidIdentity);
    }

    [Fact]
    public async Task Invalid_or_forged_tokens_are_401()
    {
        var tenant = await fixture.CreateTenantAsync();
        var good = ManagementHost.Token(tenant, "olga", ManagementCaller.OperatorRole);
        var parts = good.Split('.');
        var unsigned = parts[0] + "." + parts[1] + ".";
        var noneHeader = System.Buffers.Text.Base64Url.EncodeToString("""{"alg":"none","typ":"JWT"}"""u8);
        foreach (var token in new[] { "garbage", unsigned, noneHeader + "." + parts[1] + ".", parts[0] + "." + parts[1] + ".AAAA" })
        {
            using var response = await fixture.Host.SendAsync(HttpMethod.Get, $"tenants/{tenant}", token);
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        }
    }
}
