using System.Net;
using Gateway.Tests.Support;
using static Gateway.Tests.Support.GatewayRequests;

namespace Gateway.Tests;

/// <summary>Health routes, and nothing under the management path is ever forwarded.</summary>
public sealed class ManagementRouteTests(ManagementRouteTests.Fixture fixture) : IClassFixture<ManagementRouteTests.Fixture>
{
    public sealed class Fixture : GatewayFixture
    {
        protected override void Configure(GatewayFactory gateway) => gateway
            // A catch-all proxy route, and one that outranks the gateway's own routes by Order.
            .With("ReverseProxy:Routes:all:ClusterId", "backend")
            .With("ReverseProxy:Routes:all:Match:Path", "/{**rest}")
            .With("ReverseProxy:Routes:all:Metadata:Licensing", "Off")
            .With("ReverseProxy:Routes:greedy:ClusterId", "backend")
            .With("ReverseProxy:Routes:greedy:Order", "-10")
            .With("ReverseProxy:Routes:greedy:Match:Path", "/_licensing/leak/{**rest}")
            .With("ReverseProxy:Routes:greedy:Metadata:Licensing", "Off");
    }

    [Fact]
    public async Task Healthz_is_200()
    {
        var response = await fixture.Client.GetAsync("/_licensing/healthz");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Readyz_is_200_while_the_store_answers()
    {
        var response = await fixture.Client.GetAsync("/_licensing/readyz");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Theory]
    [InlineData("/_licensing/x")]
    [InlineData("/_licensing/v1/unknown")]
    [InlineData("/_licensing/v2/tenants/acme")]
    [InlineData("/_licensing")]
    [InlineData("/_LICENSING/healthz/more")]
    [InlineData("/_licensing/leak/anything")]
    public async Task Unknown_management_path_is_404_problem_and_never_forwarded(string path)
    {
        var response = await fixture.Client.SendAsync(Get(path, token: null));

        await response.AssertProblemAsync(HttpStatusCode.NotFound, "not-found");
        Assert.DoesNotContain(fixture.Backend.Received, r => r.Path.StartsWith("/_licensing", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public async Task Other_paths_reach_the_catch_all_route()
    {
        var response = await fixture.Client.SendAsync(Get("/_licensingx/not-management", token: null));
        await response.AssertForwardedAsync();
    }
}
