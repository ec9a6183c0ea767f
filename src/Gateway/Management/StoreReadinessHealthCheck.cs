using Gateway.Licensing.Store;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Gateway.Management;

/// <summary>Ready when the licensing store answers PING (fails fast while it is down).</summary>
internal sealed class StoreReadinessHealthCheck(LicenseStore store) : IHealthCheck
{
    public const string Name = "licensing-store";

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        await store.PingAsync().ConfigureAwait(false)
            ? HealthCheckResult.Healthy("The licensing store answers.")
            : HealthCheckResult.Unhealthy("The licensing store does not answer.");
}
