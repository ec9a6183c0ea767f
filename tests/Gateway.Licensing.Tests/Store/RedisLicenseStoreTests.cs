using Gateway.Licensing.Options;
using Gateway.Licensing.Rules;
using Gateway.Licensing.Store;
using Gateway.Licensing.Tests.Infrastructure;
using Gateway.Licensing.Tests.Support;
using StackExchange.Redis;

namespace Gateway.Licensing.Tests.Store;

/// <summary>The licensing rules on a real redis-server.</summary>
[Collection("redis")]
public sealed class RedisLicenseStoreTests(RedisServerFixture redis) : LicenseStoreContractTests
{
    protected override IConnectionMultiplexer Connection => redis.Connection;

    [Fact]
    public async Task A_plan_is_never_written_without_its_tenant_in_the_registry()
    {
        // A store user that may touch the tenants' keys but not the registry: the registry write fails.
        var tenant = "acl-" + Guid.NewGuid().ToString("N")[..8];
        var db = redis.Connection.GetDatabase();
        await db.ExecuteAsync("ACL", "SETUSER", "no-registry", "reset", "on", ">pw", "~lic:{*", "&*", "+@all");
        await using var limited = await ConnectionMultiplexer.ConnectAsync($"127.0.0.1:{redis.Port},user=no-registry,password=pw");
        var store = new LicenseStore(limited, new StaticOptionsMonitor<LicensingOptions>(new LicensingOptions()), []);

        await Assert.ThrowsAnyAsync<Exception>(() => store.SetPlanAsync(tenant, new TenantPlan(LicenseModel.ConcurrentSessions, 5, []), false, "admin"));

        var hasPlan = await db.KeyExistsAsync(TenantKeys.For(tenant)[0]);
        var registered = await db.SetContainsAsync(TenantKeys.Registry, tenant);
        Assert.False(hasPlan && !registered, "the plan was written but its tenant is not in the registry: never swept, never on the gauges");
    }
}
