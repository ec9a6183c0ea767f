using System.Net;
using Gateway.Licensing.Rules;
using Gateway.Licensing.Sessions;
using Gateway.Tests.Hostile;
using Gateway.Tests.Infrastructure;
using Gateway.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
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
    public async Task At_the_session_ceiling_a_new_session_gets_503_while_live_sessions_keep_working()
    {
        var logs = new CapturedLogs();
        await using var gateway = new GatewayFactory(redisConnectionString: null, _backend.BaseAddress)
            .With("Licensing:Embedded:DataPath", _dataPath)
            .With("Licensing:Embedded:MaxSessions", "5")
            .WithTenant("ceiling", LicenseModel.ConcurrentSessions, 100)
            .WithLogging(logs.AddTo);
        var client = await gateway.StartAsync();
        var ceiling = gateway.Services.GetRequiredService<SessionCeiling>();
        await ceiling.SampleAsync();

        var sessions = new List<string>();
        for (var i = 1; i <= 5; i++)
        {
            var echo = await Echo.ReadAsync(await client.SendAsync(Get("/api/x", TestTokens.User("ceiling", $"user{i}"))));
            sessions.Add(echo.Header("X-Licensing-Session")!);
        }
        Assert.Equal(5, sessions.Distinct().Count());

        var refused = await client.SendAsync(Get("/api/x", TestTokens.User("ceiling", "user6")));
        var problem = await refused.AssertProblemAsync(HttpStatusCode.ServiceUnavailable, "store-unavailable");
        Assert.Contains("Licensing:Embedded:MaxSessions", problem.GetProperty("detail").GetString());
        Assert.Equal("60", refused.Header("Retry-After"));
        await (await client.SendAsync(Get("/api/x", TestTokens.User("ceiling", "user7")))).AssertProblemAsync(HttpStatusCode.ServiceUnavailable, "store-unavailable");

        // The five keep working: from this replica's memory, and through the store once it has forgotten one.
        for (var i = 1; i <= 5; i++)
            await (await client.SendAsync(Get("/api/x", TestTokens.User("ceiling", $"user{i}")))).AssertForwardedAsync();
        gateway.Services.GetRequiredService<LocalSessionCache>().Forget(sessions[0]);
        var readmitted = await Echo.ReadAsync(await client.SendAsync(Get("/api/x", TestTokens.User("ceiling", "user1"))));
        Assert.Equal(sessions[0], readmitted.Header("X-Licensing-Session"));

        Assert.Equal(5, (await gateway.Store.GetTenantAsync("ceiling"))!.ActiveSessions);
        // One warning for both refusals, naming the setting.
        var warning = Assert.Single(logs.Entries, e => e.EventId.Id == 1500);
        Assert.Equal(Microsoft.Extensions.Logging.LogLevel.Warning, warning.Level);
        Assert.Contains("Licensing:Embedded:MaxSessions = 5", warning.Message);
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
