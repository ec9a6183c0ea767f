using System.Net;
using Gateway.Licensing.Rules;
using Gateway.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using static Gateway.Tests.Support.GatewayRequests;

namespace Gateway.Tests.Identity;

/// <summary>
/// One gateway in front of two ERP instances, one per host, each its own tenant: route or cluster
/// metadata <c>LicensingTenant</c> names the tenant of every request on the route; a token naming
/// another tenant is refused 403 <c>tenant-mismatch</c>; a token naming none is fine there.
/// </summary>
public sealed class RouteTenantTests(RouteTenantTests.Fixture fixture) : IClassFixture<RouteTenantTests.Fixture>
{
    private const string AcmeHost = "acme.my.erp.test";
    private const string GlobexHost = "globex.my.erp.test";

    public sealed class Fixture : GatewayFixture
    {
        protected override void Configure(GatewayFactory gateway)
        {
            gateway
                .WithTenant("acme", LicenseModel.ConcurrentSessions, 10)
                .WithTenant("globex", LicenseModel.ConcurrentSessions, 10)
                // acme: the tenant on the route.
                .With("ReverseProxy:Routes:acme:ClusterId", "backend")
                .With("ReverseProxy:Routes:acme:Match:Hosts:0", AcmeHost)
                .With("ReverseProxy:Routes:acme:Match:Path", "/erp/{**rest}")
                .With("ReverseProxy:Routes:acme:Metadata:LicensingTenant", "acme")
                .With("ReverseProxy:Routes:acme-logout:ClusterId", "backend")
                .With("ReverseProxy:Routes:acme-logout:Match:Hosts:0", AcmeHost)
                .With("ReverseProxy:Routes:acme-logout:Match:Path", "/logout-erp/{**rest}")
                .With("ReverseProxy:Routes:acme-logout:Metadata:LicensingTenant", "acme")
                .With("ReverseProxy:Routes:acme-logout:Metadata:Licensing", "Release")
                // globex: the tenant on the cluster; one route overrides it.
                .With("ReverseProxy:Routes:globex:ClusterId", "globex-erp")
                .With("ReverseProxy:Routes:globex:Match:Hosts:0", GlobexHost)
                .With("ReverseProxy:Routes:globex:Match:Path", "/erp/{**rest}")
                .With("ReverseProxy:Routes:globex-as-acme:ClusterId", "globex-erp")
                .With("ReverseProxy:Routes:globex-as-acme:Match:Hosts:0", GlobexHost)
                .With("ReverseProxy:Routes:globex-as-acme:Match:Path", "/as-acme/{**rest}")
                .With("ReverseProxy:Routes:globex-as-acme:Metadata:LicensingTenant", "acme")
                .With("ReverseProxy:Clusters:globex-erp:Metadata:LicensingTenant", "globex")
                .With("ReverseProxy:Clusters:globex-erp:Destinations:d1:Address", BackendOf(gateway));
        }

        // The echo backend's address, which the base factory already set for cluster "backend".
        private static string BackendOf(GatewayFactory gateway) => gateway.Setting("ReverseProxy:Clusters:backend:Destinations:d1:Address")!;
    }

    private static HttpRequestMessage At(string host, string path, string? token, string device = "d1") =>
        Get($"http://{host}{path}", token, device);

    [Fact]
    public async Task A_token_without_a_tenant_claim_takes_the_routes_tenant()
    {
        var echo = await Echo.ReadAsync(await fixture.Client.SendAsync(At(AcmeHost, "/erp/a", TestTokens.User(null, "no-tid"))));

        Assert.Equal("acme", echo.Header("X-Licensing-Tenant"));
        Assert.False(string.IsNullOrEmpty(echo.Header("X-Licensing-Session")));
    }

    [Fact]
    public async Task A_token_naming_the_routes_tenant_is_admitted()
    {
        var echo = await Echo.ReadAsync(await fixture.Client.SendAsync(At(AcmeHost, "/erp/b", TestTokens.User("acme", "same-tid"))));

        Assert.Equal("acme", echo.Header("X-Licensing-Tenant"));
    }

    [Fact]
    public async Task A_token_naming_another_tenant_gets_403_tenant_mismatch_and_takes_no_seat()
    {
        var before = (await fixture.Gateway.Store.GetTenantAsync("acme"))!.ActiveSessions;
        var path = $"/erp/mismatch-{Guid.NewGuid():N}";

        using var response = await fixture.Client.SendAsync(At(AcmeHost, path, TestTokens.User("globex", "intruder")));

        await response.AssertProblemAsync(HttpStatusCode.Forbidden, "tenant-mismatch");
        Assert.DoesNotContain(fixture.Backend.Received, r => r.Path == path);
        Assert.Equal(before, (await fixture.Gateway.Store.GetTenantAsync("acme"))!.ActiveSessions);
    }

    [Fact]
    public async Task A_malformed_tenant_claim_is_400_invalid_identity_on_a_tenant_route_too()
    {
        using var response = await fixture.Client.SendAsync(At(AcmeHost, "/erp/c", TestTokens.User("not a tenant!", "odd")));

        await response.AssertProblemAsync(HttpStatusCode.BadRequest, "invalid-identity");
    }

    [Fact]
    public async Task The_clusters_tenant_applies_unless_the_route_names_its_own()
    {
        var token = TestTokens.User(null, "walker");

        var globex = await Echo.ReadAsync(await fixture.Client.SendAsync(At(GlobexHost, "/erp/d", token)));
        var acme = await Echo.ReadAsync(await fixture.Client.SendAsync(At(GlobexHost, "/as-acme/d", token)));

        Assert.Equal("globex", globex.Header("X-Licensing-Tenant"));
        Assert.Equal("acme", acme.Header("X-Licensing-Tenant"));
    }

    [Fact]
    public async Task One_user_on_two_instances_holds_one_session_in_each_tenant()
    {
        var token = TestTokens.User(null, "traveller");
        var acmeBefore = (await fixture.Gateway.Store.GetTenantAsync("acme"))!.ActiveSessions;
        var globexBefore = (await fixture.Gateway.Store.GetTenantAsync("globex"))!.ActiveSessions;

        var acme = await Echo.ReadAsync(await fixture.Client.SendAsync(At(AcmeHost, "/erp/e", token, device: "pc")));
        var globex = await Echo.ReadAsync(await fixture.Client.SendAsync(At(GlobexHost, "/erp/e", token, device: "pc")));
        var acmeAgain = await Echo.ReadAsync(await fixture.Client.SendAsync(At(AcmeHost, "/erp/e", token, device: "pc")));

        Assert.NotEqual(acme.Header("X-Licensing-Session"), globex.Header("X-Licensing-Session"));
        Assert.Equal(acme.Header("X-Licensing-Session"), acmeAgain.Header("X-Licensing-Session"));
        Assert.Equal(acmeBefore + 1, (await fixture.Gateway.Store.GetTenantAsync("acme"))!.ActiveSessions);
        Assert.Equal(globexBefore + 1, (await fixture.Gateway.Store.GetTenantAsync("globex"))!.ActiveSessions);
    }

    [Fact]
    public async Task A_release_route_with_a_tenant_ends_the_session_of_that_tenant()
    {
        var token = TestTokens.User(null, "leaver");
        var opened = await Echo.ReadAsync(await fixture.Client.SendAsync(At(AcmeHost, "/erp/f", token, device: "pc")));
        var sessionId = opened.Header("X-Licensing-Session")!;

        var released = await Echo.ReadAsync(await fixture.Client.SendAsync(At(AcmeHost, "/logout-erp/g", token, device: "pc")));

        Assert.Equal(sessionId, released.Header("X-Licensing-Session"));
        Assert.Equal("acme", released.Header("X-Licensing-Tenant"));
        var sessions = await fixture.Gateway.Services.GetRequiredService<Gateway.Licensing.Store.LicenseQueries>().ListSessionsAsync("acme", "leaver", null, 10);
        Assert.Empty(sessions.Sessions);
    }

    [Fact]
    public async Task Without_a_route_tenant_a_token_without_a_tenant_claim_is_still_identity_incomplete()
    {
        using var response = await fixture.Client.SendAsync(Get("/api/no-route-tenant", TestTokens.User(null, "nobody")));

        await response.AssertProblemAsync(HttpStatusCode.Forbidden, "identity-incomplete");
    }
}

/// <summary>A <c>LicensingTenant</c> that is not a tenant id stops the start naming the route or cluster.</summary>
public sealed class RouteTenantStartupTests(StartupTests.Stores stores) : IClassFixture<StartupTests.Stores>
{
    [Theory]
    [InlineData("ReverseProxy:Routes:api:Metadata:LicensingTenant", "Route 'api'")]
    [InlineData("ReverseProxy:Clusters:backend:Metadata:LicensingTenant", "Cluster 'backend'")]
    public async Task An_invalid_route_tenant_stops_the_start_naming_it(string key, string named)
    {
        await using var gateway = new GatewayFactory(stores.Redis.ConnectionString, stores.Backend.BaseAddress).With(key, "not a tenant");

        var ex = await Assert.ThrowsAnyAsync<Exception>(() => gateway.StartAsync());

        var messages = new List<string>();
        for (Exception? e = ex; e is not null; e = e.InnerException)
        {
            messages.Add(e.Message);
            if (e is AggregateException aggregate) messages.AddRange(aggregate.InnerExceptions.Select(i => i.Message));
        }
        Assert.Contains(messages, m => m.Contains(named, StringComparison.Ordinal) && m.Contains("LicensingTenant", StringComparison.Ordinal));
    }
}
