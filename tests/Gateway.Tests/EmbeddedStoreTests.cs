using System.Net;
using Gateway.Licensing.Rules;
using Gateway.Tests.Infrastructure;
using Gateway.Tests.Support;
using static Gateway.Tests.Support.GatewayRequests;

namespace Gateway.Tests;

/// <summary>With <c>ConnectionStrings:Redis</c> empty, the gateway runs its embedded store.</summary>
public sealed class EmbeddedStoreTests : IAsyncLifetime
{
    private readonly LoopbackBackend _backend = new();
    private readonly string _dataPath = Path.Combine(Path.GetTempPath(), $"gateway-embedded-{Guid.NewGuid():N}");

    public Task InitializeAsync() => _backend.InitializeAsync();

    public async Task DisposeAsync()
    {
        await _backend.DisposeAsync();
        try { Directory.Delete(_dataPath, recursive: true); } catch (IOException) { }
    }

    [Fact]
    public async Task Gateway_without_redis_connection_runs_the_embedded_store()
    {
        await using var gateway = new GatewayFactory(redisConnectionString: null, _backend.BaseAddress)
            .With("Licensing:Embedded:DataPath", _dataPath)
            .WithTenant("embedded", LicenseModel.ConcurrentSessions, 1);

        var client = await gateway.StartAsync();

        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/_licensing/readyz")).StatusCode);
        await (await client.SendAsync(Get("/api/x", TestTokens.User("embedded", "alice")))).AssertForwardedAsync();
        var refused = await client.SendAsync(Get("/api/x", TestTokens.User("embedded", "bob")));
        await refused.AssertProblemAsync(HttpStatusCode.TooManyRequests, "seats-exhausted");
        Assert.True(Directory.Exists(_dataPath));
    }

    [Fact]
    public async Task Embedded_store_is_checkpointed_and_a_restart_keeps_plans_activations_and_sessions()
    {
        string sessionId;
        await using (var gateway = new GatewayFactory(redisConnectionString: null, _backend.BaseAddress)
            .With("Licensing:Embedded:DataPath", _dataPath)
            .With("Licensing:Embedded:CheckpointInterval", "00:00:10"))
        {
            var client = await gateway.StartAsync();
            await gateway.Store.SetPlanAsync("durable", new TenantPlan(LicenseModel.RegisteredUsers, 3, []), false, "test");
            await gateway.Store.SetUserActiveAsync("durable", "alice", true, "test");
            var echo = await Echo.ReadAsync(await client.SendAsync(Get("/api/x", TestTokens.User("durable", "alice"))));
            sessionId = echo.Header("X-Licensing-Session")!;

            // The first checkpoint is due 10 s after start.
            var deadline = DateTime.UtcNow.AddSeconds(25);
            while (!Directory.EnumerateFiles(Path.Combine(_dataPath, "checkpoint"), "*", SearchOption.AllDirectories)
                       .Any(f => !f.Contains(Path.DirectorySeparatorChar + "AOF" + Path.DirectorySeparatorChar)))
            {
                Assert.True(DateTime.UtcNow < deadline, "no checkpoint was written");
                await Task.Delay(250);
            }
        }

        await using var restarted = new GatewayFactory(redisConnectionString: null, _backend.BaseAddress)
            .With("Licensing:Embedded:DataPath", _dataPath);
        await restarted.StartAsync();
        var tenant = await restarted.Store.GetTenantAsync("durable");
        Assert.NotNull(tenant);
        Assert.Equal(LicenseModel.RegisteredUsers, tenant.Model);
        Assert.Equal(3, tenant.SeatLimit);
        Assert.Equal(1, tenant.ActiveUsers);
        Assert.Equal(1, tenant.ActiveSessions);
        Assert.False((await restarted.Store.AdmitAsync(new("durable", "alice", Gateway.Licensing.Identity.ClientKind.Desktop, "d1"))).Created);
        Assert.Matches("^[A-Za-z0-9_-]{22}$", sessionId);
    }
}
