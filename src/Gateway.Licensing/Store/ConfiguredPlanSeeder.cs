using Gateway.Licensing.Options;
using Gateway.Licensing.Results;
using Gateway.Licensing.Rules;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Gateway.Licensing.Store;

/// <summary>
/// Applies the plans of <c>Licensing:Tenants</c> at every start and activates their configured
/// <c>ActiveUsers</c> while seats allow (it never deactivates anyone). A plan that configuration
/// managed before but no longer names is handed over to the management API, as it is. When the store
/// is down at start it keeps trying in the background, so the gateway still starts.
/// </summary>
internal sealed partial class ConfiguredPlanSeeder : BackgroundService
{
    private readonly LicenseStore _store;
    private readonly IOptionsMonitor<LicensingOptions> _options;
    private readonly TimeProvider _time;
    private readonly ILogger<ConfiguredPlanSeeder> _logger;
    private readonly TaskCompletionSource _seeded = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public ConfiguredPlanSeeder(LicenseStore store, IOptionsMonitor<LicensingOptions> options, TimeProvider time, ILogger<ConfiguredPlanSeeder> logger)
    {
        _store = store;
        _options = options;
        _time = time;
        _logger = logger;
    }

    /// <summary>Completes once every configured plan has been applied.</summary>
    public Task Seeded => _seeded.Task;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await SeedAsync().ConfigureAwait(false);
                _seeded.TrySetResult();
                return;
            }
            catch (StoreUnavailableException ex)
            {
                LogSeedRetry(ex);
                try { await Task.Delay(TimeSpan.FromSeconds(1), _time, stoppingToken).ConfigureAwait(false); }
                catch (OperationCanceledException) { return; }
            }
        }
    }

    public async Task SeedAsync()
    {
        var tenants = _options.CurrentValue.Tenants;
        foreach (var tenant in await _store.ListConfiguredTenantsAsync().ConfigureAwait(false))
        {
            if (tenants.TryGetValue(tenant, out var stillConfigured) && stillConfigured.HasPlan) continue;
            if (await _store.ReleaseConfiguredPlanAsync(tenant, actor: "configuration").ConfigureAwait(false)) LogPlanReleased(tenant);
        }

        foreach (var (tenant, configured) in tenants)
        {
            if (!configured.HasPlan) continue; // admins only: the plan is managed through the API
            var plan = new TenantPlan(configured.Model!.Value, configured.SeatLimit!.Value, configured.ReservedUsers ?? [])
            {
                MaxSessionsPerUser = configured.MaxSessionsPerUser,
            };
            var result = await _store.SetPlanAsync(tenant, plan, fromConfiguration: true, actor: "configuration").ConfigureAwait(false);
            LogPlanApplied(tenant, plan.Model, plan.SeatLimit, result.EndedSessionIds.Count);
            if (result.ActiveUsers > plan.SeatLimit) LogActiveAboveLimit(tenant, result.ActiveUsers, plan.SeatLimit);

            foreach (var user in configured.ActiveUsers ?? [])
            {
                var activation = await _store.SetUserActiveAsync(tenant, user, active: true, actor: "configuration").ConfigureAwait(false);
                if (activation.Status == ActivationStatus.SeatLimitReached)
                {
                    LogSeatsFull(tenant, user);
                    break;
                }
            }
        }
    }

    [LoggerMessage(EventId = 1080, Level = LogLevel.Information, Message = "Applied the configured plan of tenant {Tenant}: {Model}, {SeatLimit} seats ({Ended} sessions revoked)")]
    private partial void LogPlanApplied(string tenant, LicenseModel model, int seatLimit, int ended);

    [LoggerMessage(EventId = 1081, Level = LogLevel.Information, Message = "Tenant {Tenant} is no longer in Licensing:Tenants; its plan is kept and is now changed through the management API")]
    private partial void LogPlanReleased(string tenant);

    [LoggerMessage(EventId = 1082, Level = LogLevel.Warning, Message = "Tenant {Tenant} has {Active} active users above its configured limit of {SeatLimit}; sessions stay capped at the limit, deactivate users to match")]
    private partial void LogActiveAboveLimit(string tenant, int active, int seatLimit);

    [LoggerMessage(EventId = 1083, Level = LogLevel.Warning, Message = "Tenant {Tenant}: no seat left to activate configured user {User} and those after it")]
    private partial void LogSeatsFull(string tenant, string user);

    [LoggerMessage(EventId = 1084, Level = LogLevel.Warning, Message = "Could not apply configured plans yet; retrying")]
    private partial void LogSeedRetry(Exception exception);
}
