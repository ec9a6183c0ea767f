using Gateway.Licensing.Results;
using Gateway.Licensing.Identity;
using Gateway.Licensing.Options;
using Gateway.Licensing.Store;
using Microsoft.Extensions.Options;

namespace Gateway.Management;

/// <summary>Endpoint metadata of a <c>/tenants/{tenant}</c> route: who may call it, and whether it needs the tenant's plan.</summary>
internal sealed record TenantRouteMetadata(bool OperatorOnly, bool PlanRequired);

/// <summary>
/// The one gate of every <c>/tenants/{tenant}</c> route, in this order:
/// <list type="number">
/// <item>the caller's role: an operator, or an admin of the tenant its own token names (operators only
/// where the route says so); else 403 <c>forbidden</c>, before anything is revealed about the tenant;</item>
/// <item>the tenant id's shape; else 400 <c>invalid-request</c>;</item>
/// <item>the handler's query checks (<see cref="IRequestCheck"/> arguments, in the order it declares them);
/// the first problem is the answer;</item>
/// <item>for routes that read a tenant (<see cref="TenantRouteMetadata.PlanRequired"/>), the tenant's plan;
/// else 404 <c>tenant-not-found</c>. The handler finds it with <see cref="PlanOf"/>.</item>
/// </list>
/// Routes that change a tenant read no plan first: their store script answers for an unknown tenant.
/// </summary>
internal static class TenantRouteFilter
{
    public const string TenantRouteValue = "tenant";

    public static RouteHandlerBuilder OperatorOnly(this RouteHandlerBuilder builder) =>
        builder.WithMetadata(new TenantRouteMetadata(OperatorOnly: true, PlanRequired: false));

    public static RouteHandlerBuilder RequiresPlan(this RouteHandlerBuilder builder) =>
        builder.WithMetadata(new TenantRouteMetadata(OperatorOnly: false, PlanRequired: true));

    /// <summary>The plan the filter read for this request (routes marked <see cref="RequiresPlan"/> only).</summary>
    public static TenantSnapshot PlanOf(HttpContext context) =>
        context.Features.Get<ReadPlan>()?.Snapshot
        ?? throw new InvalidOperationException("The route reads no plan first; mark it RequiresPlan.");

    public static async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext invocation, EndpointFilterDelegate next)
    {
        var context = invocation.HttpContext;
        var tenant = context.GetRouteValue(TenantRouteValue) as string ?? "";
        var route = context.GetEndpoint()?.Metadata.GetMetadata<TenantRouteMetadata>();
        var options = context.RequestServices.GetRequiredService<IOptionsMonitor<LicensingOptions>>();

        var caller = ManagementApi.Caller(context, options);
        if (route is { OperatorOnly: true } ? !caller.IsOperator : !caller.MayAdminister(tenant)) return Problems.Forbidden();
        if (!IdentityRules.IsValidTenant(tenant)) return Problems.Invalid("The tenant id must match ^[A-Za-z0-9._-]{1,64}$.");

        foreach (var argument in invocation.Arguments)
        {
            if (argument is IRequestCheck check && check.Check(context) is { } problem) return problem;
        }

        if (route is { PlanRequired: true })
        {
            var store = context.RequestServices.GetRequiredService<LicenseStore>();
            var snapshot = await store.GetTenantAsync(tenant).ConfigureAwait(false);
            if (snapshot is null) return Problems.TenantNotFound(tenant);
            context.Features.Set(new ReadPlan(snapshot));
        }
        return await next(invocation).ConfigureAwait(false);
    }

    private sealed record ReadPlan(TenantSnapshot Snapshot);
}
