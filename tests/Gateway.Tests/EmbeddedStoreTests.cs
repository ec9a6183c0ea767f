using System.Net;
using Gateway.Licensing.Rules;
using Gateway.Tests.Infrastructure;
using Gateway.Tests.Support;
using static Gateway.Tests.Support.GatewayRequests;

namespace Gateway.Tests;

/// <summary>SPEC §7: with <c>ConnectionStrings:Redis</c> empty, the gateway runs its embedded store.</summary>
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
}
