using Gateway.Problems;
using System.Text.Json;
using Gateway.Licensing.Identity;
using Gateway.Licensing.Rules;
using Gateway.Management;
using Gateway.Tests.Hostile;
using Gateway.Tests.Support;

namespace Gateway.Tests.Security;

/// <summary>
/// Issue 5, item 6: an admin of one tenant cannot read or change another by any management route,
/// however the other tenant is spelled in the path.
/// </summary>
/// <remarks>
/// What the code does (and docs/configuration.md states): tenant ids are <b>case-sensitive</b>. They match
/// <c>^[A-Za-z0-9._-]{1,64}$</c>, store keys are built from the exact id (<c>lic:{acme}:...</c> and
/// <c>lic:{ACME}:...</c> are different keys) and the admin check compares ordinally, so <c>ACME</c> is
/// another tenant than <c>acme</c>. The route's literal parts match in any case
/// (<c>/_LICENSING/V1/TENANTS/...</c>), but the tenant segment is used verbatim after Kestrel has
/// percent-decoded it (except <c>%2F</c>) and removed dot segments; the role check runs on that final
/// value before anything else, so <c>acme/../globex</c> and <c>%67lobex</c> are <c>globex</c> and refused.
/// </remarks>
public sealed class CrossTenantTests(CrossTenantTests.Fixture fixture) : IClassFixture<CrossTenantTests.Fixture>
{
    private const string Own = "acme";
    private const string Other = "globex";
    private const string CaseTwin = "ACME";

    public sealed class Fixture : KestrelGatewayFixture
    {
        public string OtherSession { get; private set; } = "";

        protected override void ConfigureGateway(GatewayFactory gateway) { }

        protected override async Task OnStartedAsync()
        {
            var store = Gateway.Store;
            await store.SetPlanAsync(Own, new TenantPlan(LicenseModel.ConcurrentSessions, 5, []), false, "test");
            await store.AdmitAsync(new SessionIdentity(Own, "alice", ClientKind.Desktop, "d1"));
            await store.SetPlanAsync(Other, new TenantPlan(LicenseModel.RegisteredUsers, 5, []), false, "test");
            await store.SetUserActiveAsync(Other, "bob", true, "test");
            OtherSession = (await store.AdmitAsync(new SessionIdentity(Other, "bob", ClientKind.Desktop, "d1"))).SessionId;
            await store.SetPlanAsync(CaseTwin, new TenantPlan(LicenseModel.ConcurrentSessions, 5, []), false, "test");
            await store.AdmitAsync(new SessionIdentity(CaseTwin, "carl", ClientKind.Desktop, "d1"));
        }
    }

    private static string AdminOf(string tenant) => TestTokens.User(tenant, "frank", ("role", ManagementCaller.AdminRole));

    /// <summary>Every tenant route of the management API; {t} is the tenant as spelled, {s} a session of the other tenant.</summary>
    private static readonly (string Name, string Method, string Path, string? Body)[] Routes =
    [
        ("get-tenant", "GET", "{t}", null),
        ("put-tenant", "PUT", "{t}", """{"model":"ConcurrentSessions","seatLimit":1000}"""),
        ("list-users", "GET", "{t}/users", null),
        ("put-user", "PUT", "{t}/users/zed", """{"active":true}"""),
        ("patch-users", "PATCH", "{t}/users", """{"users":[{"userId":"zed","active":true},{"userId":"bob","active":false}]}"""),
        ("swap", "POST", "{t}/users/swap", """{"deactivate":"bob","activate":"zed"}"""),
        ("list-sessions", "GET", "{t}/sessions", null),
        ("end-session", "DELETE", "{t}/sessions/{s}", null),
        ("audit", "GET", "{t}/audit", null),
        ("usage", "GET", "{t}/usage", null),
    ];

    /// <summary>Spellings that name (after decoding and normalization) a tenant that is not acme.</summary>
    private static readonly string[] Spellings =
    [
        Other, "GLOBEX", "Globex", CaseTwin, "Acme", "aCME",
        $"{Own}%2F..%2F{Other}", $"{Own}/../{Other}", $"{Own}/%2E%2E/{Other}", $"{Own}/./../{Other}", $"x/../{Other}",
        "%67lobex", "%67%6C%6F%62%65%78", "%41CME", $"{Other}%20", $"%20{Own}", $"{Own}.", $".{Own}", $"{Own}%2C{Other}", $"{Own},{Other}",
        $"{Own};{Other}", $"{Own}%3B", $"{Own}*", $"{Own}%2A", $"{Own}%7B%7D", $"{{{Own}}}", $"{Own}%0A", $"{Own}%09",
    ];

    public static TheoryData<string, string> Attempts()
    {
        var data = new TheoryData<string, string>();
        foreach (var route in Routes)
            foreach (var spelling in Spellings)
                data.Add(route.Name, spelling);
        return data;
    }

    [Theory]
    [MemberData(nameof(Attempts))]
    public async Task An_admin_of_acme_is_refused_on_every_route_of_another_tenant_however_spelled(string routeName, string spelling)
    {
        var route = Routes.Single(r => r.Name == routeName);
        var request = new RawRequest(route.Method, "/_licensing/v1/tenants/" + route.Path.Replace("{t}", spelling).Replace("{s}", fixture.OtherSession))
            .Bearer(AdminOf(Own))
            .Header("X-Licensing-Tenant", Own);
        if (route.Body is not null) request.Json(route.Body);

        var response = await HostileRunner.RunAsync(fixture, request, Outcome.Problem(403, ProblemCodes.Forbidden), $"{routeName} as '{spelling}'");
        Assert.Equal(403, response.Status);
    }

    [Theory]
    [InlineData("/_LICENSING/V1/TENANTS/globex")]
    [InlineData("/_licensing/v1/Tenants/globex/Users")]
    [InlineData("/_licensing/v1/tenants/globex/sessions?tenant=acme")]
    [InlineData("/_licensing/v1/tenants/globex/audit?limit=1&tenant=acme")]
    public async Task Literal_parts_in_another_case_or_extra_query_parameters_change_nothing(string target)
    {
        await HostileRunner.RunAsync(fixture, new RawRequest("GET", target).Bearer(AdminOf(Own)),
            Outcome.Problem(403, ProblemCodes.Forbidden), target);
    }

    [Fact]
    public async Task The_case_twin_is_its_own_tenant_both_ways()
    {
        // The same admin token works on its own tenant, also percent-encoded ...
        foreach (var own in new[] { Own, "%61cme", "x/../acme" })
        {
            var mine = await fixture.SendAsync(new RawRequest("GET", "/_licensing/v1/tenants/" + own).Bearer(AdminOf(Own)));
            Assert.True(mine.Status == 200, $"{own}: {mine}");
            Assert.Equal(Own, JsonDocument.Parse(mine.Body).RootElement.GetProperty("tenant").GetString());
        }
        // ... and ACME's admin is refused on acme in every spelling.
        foreach (var spelling in new[] { Own, "%61cme", $"{CaseTwin}/../{Own}", "Acme" })
            await HostileRunner.RunAsync(fixture, new RawRequest("GET", "/_licensing/v1/tenants/" + spelling).Bearer(AdminOf(CaseTwin)),
                Outcome.Problem(403, ProblemCodes.Forbidden), $"ACME admin on '{spelling}'");
        var twin = await fixture.SendAsync(new RawRequest("GET", $"/_licensing/v1/tenants/{CaseTwin}/sessions").Bearer(AdminOf(CaseTwin)));
        Assert.Equal("carl", Assert.Single(JsonDocument.Parse(twin.Body).RootElement.GetProperty("sessions").EnumerateArray()).GetProperty("userId").GetString());
    }

    [Fact]
    public async Task Another_tenants_session_cannot_be_ended_through_ones_own_tenant_or_as_ones_own()
    {
        var notFound = Outcome.Problem(404, ProblemCodes.SessionNotFound);
        await HostileRunner.RunAsync(fixture, new RawRequest("DELETE", $"/_licensing/v1/tenants/{Own}/sessions/{fixture.OtherSession}").Bearer(AdminOf(Own)),
            notFound, "admin of acme ends a globex session through acme");
        await HostileRunner.RunAsync(fixture, new RawRequest("DELETE", $"/_licensing/v1/me/sessions/{fixture.OtherSession}").Bearer(TestTokens.User(Own, "bob")),
            notFound, "acme's bob ends globex's bob's session as his own");
        await HostileRunner.RunAsync(fixture, new RawRequest("DELETE", $"/_licensing/v1/me/sessions/{fixture.OtherSession}").Bearer(TestTokens.User(CaseTwin, "bob")),
            notFound, "ACME's bob ends globex's bob's session as his own");
    }

    [Fact]
    public async Task Tokens_that_name_two_tenants_or_a_malformed_one_administer_nothing()
    {
        var forbidden = Outcome.Problem(403, ProblemCodes.Forbidden);
        foreach (var (name, token) in new[]
        {
            ("tid array", TestTokens.User(null, "frank", ("tid", new[] { Own, Other }), ("role", ManagementCaller.AdminRole))),
            ("tid object", TestTokens.User(null, "frank", ("tid", new Dictionary<string, object> { ["id"] = Other }), ("role", ManagementCaller.AdminRole))),
            ("tid nested array", TestTokens.User(null, "frank", ("tid", new object[] { new[] { Other } }), ("role", ManagementCaller.AdminRole))),
            ("tid with a NUL", TestTokens.User(Other + "\0", "frank", ("role", ManagementCaller.AdminRole))),
            ("admin role nested", TestTokens.User(Own, "frank", ("role", new object[] { new[] { ManagementCaller.OperatorRole } }))),
            ("operator role as an object", TestTokens.User(Own, "frank", ("role", new Dictionary<string, object> { ["role"] = ManagementCaller.OperatorRole }))),
        })
        {
            await HostileRunner.RunAsync(fixture, new RawRequest("GET", $"/_licensing/v1/tenants/{Other}").Bearer(token), forbidden, name);
        }
    }
}
