using Gateway.Licensing.Options;
using Gateway.Licensing.Rules;

namespace Gateway.Licensing.Tests.Options;

public sealed class LicensingOptionsValidatorTests
{
    private static string? Fails(Action<LicensingOptions> change)
    {
        var options = new LicensingOptions();
        change(options);
        var result = new LicensingOptionsValidator().Validate(null, options);
        return result.Failed ? result.FailureMessage : null;
    }

    [Fact]
    public void Defaults_are_valid()
    {
        Assert.Null(Fails(_ => { }));
        var o = new LicensingOptions();
        Assert.Equal(TimeSpan.FromMinutes(1), o.EffectiveTouchInterval);
        Assert.Equal(LicensingOptions.DefaultDeviceSources, o.EffectiveDeviceSources);
        Assert.Equal(0, o.MaxSessionsPerUser);
        Assert.Equal(EnforcementMode.Enforce, o.Enforcement);
        Assert.Equal(100_000, o.MaxUsersPerTenant);
        Assert.Equal(TimeSpan.FromDays(30), o.UserRetention);
        Assert.Equal(150_000, o.Embedded.MaxSessions);
        Assert.Null(Fails(o => o.Embedded.MaxSessions = 0));
    }

    [Theory]
    [InlineData("Licensing:IdleTimeout")]
    [InlineData("Licensing:TouchInterval")]
    [InlineData("Licensing:ManagementPath")]
    [InlineData("Licensing:DeviceSources:1")]
    [InlineData("Licensing:Tenants:bad tenant")]
    [InlineData("Licensing:Tenants:acme:SeatLimit")]
    [InlineData("Licensing:Tenants:acme:ReservedUsers")]
    [InlineData("Licensing:DefaultTenant")]
    [InlineData("Licensing:ManagementPort")]
    [InlineData("Licensing:MaxSessionsPerUser")]
    [InlineData("Licensing:MaxUsersPerTenant")]
    [InlineData("Licensing:UserRetention")]
    [InlineData("Licensing:Tenants:acme:MaxSessionsPerUser")]
    [InlineData("Licensing:Enforcement")]
    [InlineData("Licensing:Tenants:acme:Enforcement")]
    [InlineData("Licensing:Embedded:MaxSessions")]
    public void Each_bad_value_is_named_by_its_key(string key)
    {
        var message = Fails(o =>
        {
            switch (key)
            {
                case "Licensing:IdleTimeout": o.IdleTimeout = TimeSpan.FromMilliseconds(500); break;
                case "Licensing:TouchInterval": o.TouchInterval = TimeSpan.FromMinutes(30); break;
                case "Licensing:ManagementPath": o.ManagementPath = "_licensing/"; break;
                case "Licensing:DeviceSources:1": o.DeviceSources = ["header:X-Device-Id", "smoke-signal"]; break;
                case "Licensing:Tenants:bad tenant": o.Tenants["bad tenant"] = new() { Model = LicenseModel.RegisteredUsers, SeatLimit = 1 }; break;
                case "Licensing:Tenants:acme:SeatLimit": o.Tenants["acme"] = new() { Model = LicenseModel.RegisteredUsers, SeatLimit = 0 }; break;
                case "Licensing:Tenants:acme:ReservedUsers": o.Tenants["acme"] = new() { Model = LicenseModel.ConcurrentSessions, SeatLimit = 1, ReservedUsers = ["a", "b"] }; break;
                case "Licensing:DefaultTenant": o.DefaultTenant = "no{tags}"; break;
                case "Licensing:ManagementPort": o.ManagementPort = 70000; break;
                case "Licensing:MaxSessionsPerUser": o.MaxSessionsPerUser = -1; break;
                case "Licensing:MaxUsersPerTenant": o.MaxUsersPerTenant = 0; break;
                case "Licensing:UserRetention": o.UserRetention = TimeSpan.Zero; break;
                case "Licensing:Tenants:acme:MaxSessionsPerUser": o.Tenants["acme"] = new() { Model = LicenseModel.ConcurrentSessions, SeatLimit = 5, MaxSessionsPerUser = -3 }; break;
                case "Licensing:Enforcement": o.Enforcement = (EnforcementMode)7; break;
                case "Licensing:Tenants:acme:Enforcement": o.Tenants["acme"] = new() { Enforcement = (EnforcementMode)2 }; break;
                case "Licensing:Embedded:MaxSessions": o.Embedded.MaxSessions = -1; break;
            }
        });
        Assert.NotNull(message);
        Assert.Contains(key, message);
    }

    [Fact]
    public void Configured_device_sources_replace_the_defaults()
    {
        var o = new LicensingOptions { DeviceSources = ["header:X-Workstation"] };
        Assert.Equal(["header:X-Workstation"], o.EffectiveDeviceSources);
    }
}
