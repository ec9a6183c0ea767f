using System.Diagnostics;
using System.Net;
using Gateway.Licensing.Rules;
using Gateway.Licensing.Tests.Infrastructure;
using Gateway.Tests.Infrastructure;
using Gateway.Tests.Support;
using static Gateway.Tests.Support.GatewayRequests;

namespace Gateway.Tests;

/// <summary>The outage policy with the default policy (KeepAdmitted): a real redis-server is killed and started again.</summary>
public sealed class StoreOutageTests(StoreOutageTests.Fixture fixture) : IClassFixture<StoreOutageTests.Fixture>
{
    private const string Tenant = "outage";

    public sealed class Fixture : GatewayFixture
    {
        protected override void Configure(GatewayFactory gateway) => gateway.WithTenant(Tenant, LicenseModel.ConcurrentSessions, 10);
    }

    [Fact]
    public async Task Known_sessions_keep_working_new_ones_get_503_and_readiness_recovers()
    {
        var client = fixture.Client;
        var alice = TestTokens.User(Tenant, "alice");
        await (await client.SendAsync(Get("/api/x", alice))).AssertForwardedAsync();

        await fixture.Redis.StopAsync();
        try
        {
            var elapsed = Stopwatch.StartNew();
            var refused = await client.SendAsync(Get("/api/x", TestTokens.User(Tenant, "bob")));
            var body = await refused.AssertProblemAsync(HttpStatusCode.ServiceUnavailable, "store-unavailable");
            Assert.Equal("5", refused.Header("Retry-After"));
            Assert.True(elapsed.Elapsed < TimeSpan.FromSeconds(3), $"a dead store must not hold a request ({elapsed.Elapsed})");

            await (await client.SendAsync(Get("/api/x", alice))).AssertForwardedAsync();
            Assert.Equal(HttpStatusCode.ServiceUnavailable, (await client.GetAsync("/_licensing/readyz")).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/_licensing/healthz")).StatusCode);
        }
        finally
        {
            await fixture.Redis.StartAsync();
        }

        var deadline = Stopwatch.StartNew();
        while ((await client.GetAsync("/_licensing/readyz")).StatusCode != HttpStatusCode.OK)
        {
            Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(15), "readiness did not recover after the store came back");
            await Task.Delay(200);
        }
    }
}

/// <summary>The outage policy <c>StoreUnavailable=FailOpen</c>: everything is forwarded while the store is down.</summary>
public sealed class FailOpenOutageTests(FailOpenOutageTests.Fixture fixture) : IClassFixture<FailOpenOutageTests.Fixture>
{
    private const string Tenant = "failopen";

    public sealed class Fixture : GatewayFixture
    {
        protected override void Configure(GatewayFactory gateway) => gateway
            .With("Licensing:StoreUnavailable", "FailOpen")
            .WithTenant(Tenant, LicenseModel.ConcurrentSessions, 1);
    }

    [Fact]
    public async Task New_sessions_are_forwarded_while_the_store_is_down()
    {
        await fixture.Redis.StopAsync();
        try
        {
            var echo = await Echo.ReadAsync(await fixture.Client.SendAsync(Get("/api/x", TestTokens.User(Tenant, "zoe"))));
            Assert.Equal(Tenant, echo.Header("X-Licensing-Tenant"));
            Assert.NotNull(echo.Header("X-Licensing-Session"));
        }
        finally
        {
            await fixture.Redis.StartAsync();
        }
    }
}

/// <summary>The gateway starts while the store is down, answers health, refuses new sessions with 503.</summary>
public sealed class StoreDownAtStartTests : IAsyncLifetime
{
    private readonly LoopbackBackend _backend = new();

    public Task InitializeAsync() => _backend.InitializeAsync();

    public Task DisposeAsync() => _backend.DisposeAsync();

    [Fact]
    public async Task Gateway_starts_without_its_store()
    {
        var deadPort = FreePort.Get(); // nothing listens there
        await using var gateway = new GatewayFactory($"127.0.0.1:{deadPort}", _backend.BaseAddress)
            .WithTenant("down", LicenseModel.ConcurrentSessions, 5);

        var started = Stopwatch.StartNew();
        var client = await gateway.StartAsync(waitForPlans: false);
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(10), $"start took {started.Elapsed}");

        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/_licensing/healthz")).StatusCode);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await client.GetAsync("/_licensing/readyz")).StatusCode);
        var refused = await client.SendAsync(Get("/api/x", TestTokens.User("down", "alice")));
        await refused.AssertProblemAsync(HttpStatusCode.ServiceUnavailable, "store-unavailable");
        await (await client.SendAsync(Get("/open/x", token: null))).AssertForwardedAsync();
    }
}
