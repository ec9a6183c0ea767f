using Gateway.Licensing.Identity;
using Gateway.Licensing.Rules;
using Microsoft.Extensions.Options;

namespace Gateway.Licensing.Options;

/// <summary>
/// Checks the <c>Licensing</c> section at startup; every failure names the configuration key, so a bad
/// value stops the process with a message an operator can act on.
/// </summary>
internal sealed class LicensingOptionsValidator : IValidateOptions<LicensingOptions>
{
    private static readonly string[] KnownDeviceSourceKinds = ["claim", "header", "cookie"];

    /// <summary>Upper bound of <see cref="LicensingOptions.MaxUsersPerTenant"/>.</summary>
    public const int MaxUsersPerTenantLimit = 10_000_000;

    public ValidateOptionsResult Validate(string? name, LicensingOptions options)
    {
        var failures = new List<string>();
        const string p = LicensingOptions.SectionName + ":";

        if (options.IdleTimeout < TimeSpan.FromSeconds(1))
            failures.Add($"{p}IdleTimeout must be at least 00:00:01 (was {options.IdleTimeout}).");
        var touch = options.EffectiveTouchInterval;
        if (touch <= TimeSpan.Zero || touch >= options.IdleTimeout)
            failures.Add($"{p}TouchInterval must be greater than zero and less than {p}IdleTimeout (was {touch}).");
        if (options.ServiceSessionLifetime < TimeSpan.FromSeconds(1))
            failures.Add($"{p}ServiceSessionLifetime must be at least 00:00:01 (was {options.ServiceSessionLifetime}).");
        if (options.SweepInterval < TimeSpan.FromMilliseconds(100))
            failures.Add($"{p}SweepInterval must be at least 00:00:00.1 (was {options.SweepInterval}).");
        if (!Enum.IsDefined(options.AtCapacity))
            failures.Add($"{p}AtCapacity must be PreemptBorrowed or Reject.");
        if (!Enum.IsDefined(options.Enforcement))
            failures.Add($"{p}Enforcement must be Enforce or Shadow (was {options.Enforcement}).");
        if (!Enum.IsDefined(options.StoreUnavailable))
            failures.Add($"{p}StoreUnavailable must be KeepAdmitted, FailClosed or FailOpen.");
        if (options.DefaultTenant is { } tenant && tenant.Length > 0 && !IdentityRules.IsValidTenant(tenant))
            failures.Add($"{p}DefaultTenant must match ^[A-Za-z0-9._-]{{1,64}}$ (was '{tenant}').");
        if (string.IsNullOrWhiteSpace(options.Claims.Tenant)) failures.Add($"{p}Claims:Tenant must not be empty.");
        if (string.IsNullOrWhiteSpace(options.Claims.User)) failures.Add($"{p}Claims:User must not be empty.");
        if (string.IsNullOrWhiteSpace(options.Claims.ClientId)) failures.Add($"{p}Claims:ClientId must not be empty.");
        if (string.IsNullOrWhiteSpace(options.Claims.Role)) failures.Add($"{p}Claims:Role must not be empty.");
        if (string.IsNullOrWhiteSpace(options.Roles.Operator)) failures.Add($"{p}Roles:Operator must not be empty.");
        if (string.IsNullOrWhiteSpace(options.Roles.Admin)) failures.Add($"{p}Roles:Admin must not be empty.");
        else if (string.Equals(options.Roles.Admin, options.Roles.Operator, StringComparison.Ordinal))
            failures.Add($"{p}Roles:Admin must differ from {p}Roles:Operator (both were '{options.Roles.Admin}').");
        CheckUserIds(failures, $"{p}Operators", options.Operators);
        if (string.IsNullOrEmpty(options.ManagementPath) || options.ManagementPath[0] != '/' || options.ManagementPath.Length < 2 || options.ManagementPath.EndsWith('/'))
            failures.Add($"{p}ManagementPath must start with '/' and not end with '/' (was '{options.ManagementPath}').");
        if (options.ManagementPort is { } port && port is < 1 or > 65535)
            failures.Add($"{p}ManagementPort must be between 1 and 65535 (was {port}).");
        if (options.Metrics.MaxTenants is < 0 or > 10_000)
            failures.Add($"{p}Metrics:MaxTenants must be between 0 and 10000 (was {options.Metrics.MaxTenants}).");
        if (options.Embedded.Port is < 0 or > 65535)
            failures.Add($"{p}Embedded:Port must be between 0 and 65535 (was {options.Embedded.Port}).");
        if (options.Embedded.CheckpointInterval < TimeSpan.FromSeconds(10))
            failures.Add($"{p}Embedded:CheckpointInterval must be at least 00:00:10 (was {options.Embedded.CheckpointInterval}).");
        if (options.Embedded.MaxSessions < 0)
            failures.Add($"{p}Embedded:MaxSessions must be 0 (no ceiling) or a positive number of sessions (was {options.Embedded.MaxSessions}).");
        if (string.IsNullOrWhiteSpace(options.Embedded.DataPath))
            failures.Add($"{p}Embedded:DataPath must not be empty.");
        if (options.Store.MinReplicaAcks is < 0 or > StoreOptions.MaxReplicaAcks)
            failures.Add($"{p}Store:MinReplicaAcks must be between 0 and {StoreOptions.MaxReplicaAcks} (was {options.Store.MinReplicaAcks}).");
        if (options.Store.ReplicaAckTimeout < TimeSpan.FromMilliseconds(10) || options.Store.ReplicaAckTimeout > TimeSpan.FromSeconds(30))
            failures.Add($"{p}Store:ReplicaAckTimeout must be between 00:00:00.01 and 00:00:30 (was {options.Store.ReplicaAckTimeout}).");
        if (options.AuditCapacity is < 1 or > 1_000_000)
            failures.Add($"{p}AuditCapacity must be between 1 and 1000000 (was {options.AuditCapacity}).");
        if (options.MaxSessionsPerUser is < 0 or > TenantPlan.MaxSeatLimit)
            failures.Add($"{p}MaxSessionsPerUser must be between 0 (no limit) and {TenantPlan.MaxSeatLimit} (was {options.MaxSessionsPerUser}).");
        if (options.MaxUsersPerTenant is < 1 or > MaxUsersPerTenantLimit)
            failures.Add($"{p}MaxUsersPerTenant must be between 1 and {MaxUsersPerTenantLimit} (was {options.MaxUsersPerTenant}).");
        if (options.UserRetention < TimeSpan.FromSeconds(1) || options.UserRetention > TimeSpan.FromDays(3650))
            failures.Add($"{p}UserRetention must be between 00:00:01 and 3650.00:00:00 (was {options.UserRetention}).");

        if (options.DeviceSources is { } sources)
        {
            for (var i = 0; i < sources.Length; i++)
            {
                if (!IsValidDeviceSource(sources[i]))
                    failures.Add($"{p}DeviceSources:{i} must be 'claim:NAME', 'header:NAME', 'cookie:NAME' or 'fingerprint' (was '{sources[i]}').");
            }
        }

        foreach (var (tenantId, plan) in options.Tenants)
        {
            var key = $"{p}Tenants:{tenantId}";
            if (!IdentityRules.IsValidTenant(tenantId))
                failures.Add($"{key}: tenant id must match ^[A-Za-z0-9._-]{{1,64}}$.");
            CheckUserIds(failures, $"{key}:Admins", plan.Admins);
            if (plan.Enforcement is { } mode && !Enum.IsDefined(mode))
                failures.Add($"{key}:Enforcement must be Enforce or Shadow (was {mode}).");
            if (!plan.HasPlan) continue;
            if (plan.Model is null || !Enum.IsDefined(plan.Model.Value))
                failures.Add($"{key}:Model must be RegisteredUsers or ConcurrentSessions.");
            if (plan.SeatLimit is null or < 1 or > TenantPlan.MaxSeatLimit)
                failures.Add($"{key}:SeatLimit must be between 1 and {TenantPlan.MaxSeatLimit}.");
            if (plan.ReservedUsers is { } reserved)
            {
                if (reserved.Any(u => !IdentityRules.IsValidId(u)))
                    failures.Add($"{key}:ReservedUsers must hold user ids of 1-128 printable ASCII characters.");
                if (plan.SeatLimit is { } limit && reserved.Distinct(StringComparer.Ordinal).Count() > limit)
                    failures.Add($"{key}:ReservedUsers must not hold more users than {key}:SeatLimit.");
            }
            if (plan.MaxSessionsPerUser is < 0 or > TenantPlan.MaxSeatLimit)
                failures.Add($"{key}:MaxSessionsPerUser must be between 0 (no limit) and {TenantPlan.MaxSeatLimit} (was {plan.MaxSessionsPerUser}).");
            if (plan.ActiveUsers is { } active && active.Any(u => !IdentityRules.IsValidId(u)))
                failures.Add($"{key}:ActiveUsers must hold user ids of 1-128 printable ASCII characters.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    /// <summary>Each entry of a user id list must be an id (1-128 printable ASCII); names the first bad index.</summary>
    private static void CheckUserIds(List<string> failures, string key, string[]? users)
    {
        if (users is null) return;
        for (var i = 0; i < users.Length; i++)
        {
            if (!IdentityRules.IsValidId(users[i]))
                failures.Add($"{key}:{i} must be a user id of 1-128 printable ASCII characters.");
        }
    }

    internal static bool IsValidDeviceSource(string? source)
    {
        if (string.IsNullOrWhiteSpace(source)) return false;
        if (source == "fingerprint") return true;
        var colon = source.IndexOf(':');
        if (colon <= 0 || colon == source.Length - 1) return false;
        return KnownDeviceSourceKinds.Contains(source[..colon]);
    }
}
