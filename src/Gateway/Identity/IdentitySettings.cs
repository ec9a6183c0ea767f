using Gateway.Licensing.Options;

namespace Gateway.Identity;

/// <summary>The identity-related part of <see cref="LicensingOptions"/>, compiled once per options instance.</summary>
internal sealed class IdentitySettings
{
    public IdentitySettings(LicensingOptions options)
    {
        Source = options;
        TenantClaim = options.Claims.Tenant;
        UserClaim = options.Claims.User;
        ClientIdClaim = options.Claims.ClientId;
        DefaultTenant = string.IsNullOrEmpty(options.DefaultTenant) ? null : options.DefaultTenant;
        DeviceSources = options.EffectiveDeviceSources.Select(DeviceSource.Parse).ToArray();
    }

    public LicensingOptions Source { get; }
    public string TenantClaim { get; }
    public string UserClaim { get; }
    public string ClientIdClaim { get; }
    public string? DefaultTenant { get; }
    public DeviceSource[] DeviceSources { get; }
}
