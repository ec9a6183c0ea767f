using System.Security.Claims;
using Gateway.Management;
using Gateway.Problems;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Gateway.Tests.Management;

/// <summary>
/// The tenant routes' filter on its own, against the shared host's real store: the order of its checks
/// is role (403), tenant id (400), the handler's query checks in declared order (400, or 404
/// session-not-found for a malformed session id), and only then the tenant's plan (404). The order is
/// what the handlers checked inline before the filter existed; the end-to-end answers are covered by
/// <see cref="AuthorizationMatrixTests"/> and <see cref="ValidationTests"/>.
/// </summary>
[Collection("management")]
public sealed class TenantRouteFilterTests(ManagementFixture fixture)
{
    private static readonly TenantRouteMetadata Reads = new(OperatorOnly: false, PlanRequired: true);
    private static readonly TenantRouteMetadata Changes = new(OperatorOnly: false, PlanRequired: false);
    private static readonly TenantRouteMetadata PlanChange = new(OperatorOnly: true, PlanRequired: false);

    [Fact]
    public async Task A_caller_who_may_not_administer_the_tenant_is_403_before_the_tenant_id_the_query_or_the_plan_is_looked_at()
    {
        var unknown = ManagementFixture.NewTenant();
        // Unknown tenant, malformed paging: still 403, so a stranger learns nothing about either.
        var (result, ran) = await RunAsync(Reads, unknown, AdminOf("elsewhere"), Page(limit: "0"));
        AssertProblem(result, 403, ProblemCodes.Forbidden);
        Assert.False(ran);

        (result, ran) = await RunAsync(Reads, "not a tenant!", AdminOf("elsewhere"));
        AssertProblem(result, 403, ProblemCodes.Forbidden);
        Assert.False(ran);

        (result, ran) = await RunAsync(Reads, unknown, Principal(("tid", unknown), ("sub", "frank")));
        AssertProblem(result, 403, ProblemCodes.Forbidden);
        Assert.False(ran);
    }

    [Fact]
    public async Task Plan_changes_are_for_operators_only_even_for_the_admin_of_the_tenant()
    {
        var tenant = await fixture.CreateTenantAsync();
        var (result, ran) = await RunAsync(PlanChange, tenant, AdminOf(tenant));
        AssertProblem(result, 403, ProblemCodes.Forbidden);
        Assert.False(ran);

        (_, ran) = await RunAsync(PlanChange, ManagementFixture.NewTenant(), Operator());
        Assert.True(ran);
    }

    [Fact]
    public async Task An_allowed_caller_gets_the_tenant_id_checked_before_the_query()
    {
        var (result, ran) = await RunAsync(Reads, "bad tenant", Operator(), Page(limit: "abc"));
        AssertProblem(result, 400, ProblemCodes.InvalidRequest, "The tenant id must match ^[A-Za-z0-9._-]{1,64}$.");
        Assert.False(ran);
    }

    [Fact]
    public async Task Query_checks_run_in_declared_order_and_before_the_plan_is_read()
    {
        var unknown = ManagementFixture.NewTenant();
        var (result, _) = await RunAsync(Reads, unknown, Operator(), new UserHandlers.ActiveFilter("yes"), Page(limit: "0"));
        AssertProblem(result, 400, ProblemCodes.InvalidRequest, "active must be true or false.");

        (result, _) = await RunAsync(Reads, unknown, Operator(), new UserHandlers.ActiveFilter("true"), Page(limit: "0", cursor: "%%"));
        AssertProblem(result, 400, ProblemCodes.InvalidRequest, "limit must be an integer from 1 to 1000.");

        (result, _) = await RunAsync(Reads, unknown, Operator(), Page(limit: "5", cursor: "%%"));
        AssertProblem(result, 400, ProblemCodes.InvalidRequest, "cursor is not a cursor this API returned.");

        // A malformed session id names no session, whether or not the tenant exists.
        (result, _) = await RunAsync(Reads, unknown, Operator(), new SessionHandlers.SessionRoute("not-a-session-id"));
        AssertProblem(result, 404, ProblemCodes.SessionNotFound);
    }

    [Fact]
    public async Task A_tenant_without_a_plan_is_404_for_routes_that_read_it_and_left_to_the_store_for_routes_that_change_it()
    {
        var unknown = ManagementFixture.NewTenant();
        var (result, ran) = await RunAsync(Reads, unknown, Operator(), Page());
        AssertProblem(result, 404, ProblemCodes.TenantNotFound);
        Assert.False(ran);

        (_, ran) = await RunAsync(Changes, unknown, Operator());
        Assert.True(ran);
    }

    [Fact]
    public async Task An_admin_of_an_existing_tenant_reaches_the_handler_with_the_plan_read_once()
    {
        var tenant = await fixture.CreateTenantAsync(seatLimit: 7);
        var context = NewContext(Reads, tenant, AdminOf(tenant));
        var page = Page(limit: "3");
        var ran = false;
        var result = await TenantRouteFilter.InvokeAsync(
            new DefaultEndpointFilterInvocationContext(context, tenant, page, context),
            _ => { ran = true; return ValueTask.FromResult<object?>(TenantRouteFilter.PlanOf(context).SeatLimit); });
        Assert.True(ran);
        Assert.Equal(7, result);
        Assert.Equal(3, page.Size);
    }

    [Fact]
    public async Task A_refusal_of_a_list_that_can_answer_csv_still_varies_by_accept()
    {
        var stranger = ManagementHost.Token("elsewhere", "erin", ManagementCaller.AdminRole);
        using var response = await fixture.Host.SendAsync(HttpMethod.Get, $"tenants/{ManagementFixture.NewTenant()}/users", stranger,
            configure: r => r.Headers.Accept.ParseAdd("text/csv"));

        Assert.Equal(System.Net.HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Contains("Accept", response.Headers.Vary);
        Assert.Equal(ProblemResponse.ContentType, response.Content.Headers.ContentType?.MediaType);
    }

    private static PageQuery<UserCursor> Page(string? limit = null, string? cursor = null) => new(limit, cursor);

    private async Task<(object? Result, bool Ran)> RunAsync(TenantRouteMetadata route, string tenant, ClaimsPrincipal caller, params object[] checks)
    {
        var context = NewContext(route, tenant, caller);
        var ran = false;
        var result = await TenantRouteFilter.InvokeAsync(
            new DefaultEndpointFilterInvocationContext(context, [tenant, .. checks, context]),
            _ => { ran = true; return ValueTask.FromResult<object?>(null); });
        return (result, ran);
    }

    private DefaultHttpContext NewContext(TenantRouteMetadata route, string tenant, ClaimsPrincipal caller)
    {
        var context = new DefaultHttpContext { RequestServices = fixture.Host.Services, User = caller };
        context.Request.RouteValues[TenantRouteFilter.TenantRouteValue] = tenant;
        context.SetEndpoint(new Endpoint(null, new EndpointMetadataCollection(route), "test"));
        return context;
    }

    private static void AssertProblem(object? result, int status, string code, string? detail = null)
    {
        var problem = Assert.IsType<ProblemHttpResult>(result);
        Assert.Equal(status, problem.StatusCode);
        Assert.Equal(code, ProblemResponse.CodeOf(problem.ProblemDetails));
        if (detail is not null) Assert.Equal(detail, problem.ProblemDetails.Detail);
    }

    private static ClaimsPrincipal Operator() => Principal(("tid", "ops"), ("sub", "olga"), ("role", ManagementCaller.OperatorRole));

    private static ClaimsPrincipal AdminOf(string tenant) => Principal(("tid", tenant), ("sub", "frank"), ("role", ManagementCaller.AdminRole));

    private static ClaimsPrincipal Principal(params (string Type, string Value)[] claims) =>
        new(new ClaimsIdentity(claims.Select(c => new Claim(c.Type, c.Value)), "test"));
}
