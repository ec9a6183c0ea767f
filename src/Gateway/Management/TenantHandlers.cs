using Gateway.Licensing.Results;
using Gateway.Licensing.Options;
using Gateway.Licensing.Rules;
using Gateway.Licensing.Store;
using Gateway.Problems;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace Gateway.Management;

/// <summary>
/// <c>/tenants</c> and <c>/tenants/{tenant}</c>: the operator's list of tenants, a tenant's plan and live
/// counts, and plan changes. Roles, the tenant id and the plan's existence are checked by
/// <see cref="TenantRouteFilter"/> before these run (the list, outside the tenant group, checks its own).
/// </summary>
internal static class TenantHandlers
{
    public static Results<Ok<TenantResponse>, ProblemHttpResult> Get(
        string tenant, HttpContext context, [FromServices] IOptionsMonitor<LicensingOptions> options) =>
        TypedResults.Ok(ToResponse(TenantRouteFilter.PlanOf(context), options.CurrentValue));

    public static async Task<Results<Ok<TenantResponse>, Created<TenantResponse>, ProblemHttpResult>> PutAsync(
        string tenant, HttpContext context, [FromServices] LicenseStore store, [FromServices] IOptionsMonitor<LicensingOptions> options)
    {
        var (body, error) = await ManagementJson.ReadAsync<PlanRequest>(context.Request, context.RequestAborted).ConfigureAwait(false);
        if (error is not null) return error;

        if (!TryParseModel(body!.Model, out var model))
            return Problems.Invalid("model must be RegisteredUsers or ConcurrentSessions.");
        if (body.SeatLimit is < 1 or > TenantPlan.MaxSeatLimit)
            return Problems.Invalid($"seatLimit must be between 1 and {TenantPlan.MaxSeatLimit}.");
        var reserved = body.ReservedUsers ?? [];
        if (UserHandlers.CheckUserIds(reserved, "reservedUsers") is { } bad) return bad;
        if (reserved.Count > body.SeatLimit)
            return Problems.Invalid("reservedUsers must not name more users than seatLimit.");
        if (body.MaxSessionsPerUser is < 0 or > TenantPlan.MaxSeatLimit)
            return Problems.Invalid($"maxSessionsPerUser must be between 0 (no limit) and {TenantPlan.MaxSeatLimit}.");

        EnforcementMode? enforcement = null;
        if (body.Enforcement is not null)
        {
            if (!EnforcementModeNames.TryParse(body.Enforcement, out var mode))
                return Problems.Invalid("enforcement must be enforce or shadow.");
            enforcement = mode;
        }

        var caller = ManagementApi.Caller(context, options);
        var plan = new TenantPlan(model, body.SeatLimit, reserved) { MaxSessionsPerUser = body.MaxSessionsPerUser, Enforcement = enforcement };
        var result = await store.SetPlanAsync(tenant, plan, fromConfiguration: false, caller.ActorFor(tenant), durable: true).ConfigureAwait(false);
        switch (result.Status)
        {
            case PlanChangeStatus.ManagedByConfig:
                return Problems.Create(StatusCodes.Status409Conflict, ProblemCodes.PlanManagedByConfig, "Plan managed by configuration",
                    $"The plan of '{tenant}' comes from Licensing:Tenants:{tenant} and is applied at every start; change it there. Its users are managed through this API as usual.");
            case PlanChangeStatus.SeatLimitBelowActiveUsers:
                return Problems.Create(StatusCodes.Status409Conflict, ProblemCodes.SeatLimitBelowActiveUsers, "Seat limit below active users",
                    $"{result.ActiveUsers} users are active; deactivate users down to {body.SeatLimit} first.",
                    new Dictionary<string, object?> { ["activeUsers"] = result.ActiveUsers, ["seatLimit"] = body.SeatLimit });
        }

        ManagementApi.AdminChanges(context).PlanChanged(caller.ActorFor(tenant), tenant, model.ToString(), body.SeatLimit, result.EndedSessionIds.Count);
        var snapshot = await store.GetTenantAsync(tenant).ConfigureAwait(false);
        if (snapshot is null) return Problems.TenantNotFound(tenant);
        var response = ToResponse(snapshot, options.CurrentValue);
        return result.Status == PlanChangeStatus.Created
            ? TypedResults.Created(ManagementApi.Location(context), response)
            : TypedResults.Ok(response);
    }

    /// <summary>Operators only; every tenant with a plan, in ordinal order of the ids.</summary>
    public static async Task<Results<Ok<TenantListResponse>, ProblemHttpResult>> ListAsync(
        HttpContext context,
        [AsParameters] PageQuery<TenantCursor> page,
        [FromServices] LicenseStore store,
        [FromServices] IOptionsMonitor<LicensingOptions> options)
    {
        if (!ManagementApi.Caller(context, options).IsOperator) return Problems.Forbidden();
        if (page.Check(context) is { } badPage) return badPage;

        var ids = await store.ListTenantsAsync().ConfigureAwait(false);
        var start = 0;
        if (page.After is { } after)
        {
            while (start < ids.Count && string.CompareOrdinal(ids[start], after.Tenant) <= 0) start++;
        }
        var pageIds = ids.Skip(start).Take(page.Size).ToArray();
        var snapshots = await Task.WhenAll(pageIds.Select(store.GetTenantAsync)).ConfigureAwait(false);
        var tenants = snapshots.OfType<TenantSnapshot>()
            .Select(s => new TenantSummaryResponse(s.Tenant, s.Model, s.SeatLimit, s.ActiveUsers, s.ActiveSessions, EffectiveEnforcement(s, options.CurrentValue)))
            .ToArray();
        var more = start + pageIds.Length < ids.Count;
        return TypedResults.Ok(new TenantListResponse(tenants, more && pageIds.Length > 0 ? TenantCursor.Encode(pageIds[^1]) : null));
    }

    private static bool TryParseModel(string? value, out LicenseModel model)
    {
        switch (value)
        {
            case nameof(LicenseModel.RegisteredUsers): model = LicenseModel.RegisteredUsers; return true;
            case nameof(LicenseModel.ConcurrentSessions): model = LicenseModel.ConcurrentSessions; return true;
            default: model = default; return false;
        }
    }

    private static TenantResponse ToResponse(TenantSnapshot s, LicensingOptions options) =>
        new(s.Tenant, s.Model, s.SeatLimit, s.ActiveUsers, s.ActiveSessions, s.ReservedUsers, (int)Math.Ceiling(options.IdleTimeout.TotalSeconds),
            s.MaxSessionsPerUser ?? options.MaxSessionsPerUser, EffectiveEnforcement(s, options));

    /// <summary>The tenant's enforcement: the plan's own, else its configuration entry's, else the gateway's.</summary>
    private static string EffectiveEnforcement(TenantSnapshot s, LicensingOptions options) =>
        (s.Enforcement ?? options.DefaultEnforcementFor(s.Tenant)).ToName();
}
