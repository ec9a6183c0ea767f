using Gateway.Licensing.Rules;
using Gateway.Licensing.Tests.Infrastructure;
using Gateway.Tests.Infrastructure;
using Gateway.Tests.Support;
using Xunit.Abstractions;
using static Gateway.Tests.Support.GatewayRequests;

namespace Gateway.Tests;

/// <summary>A bad setting stops the gateway at start with a message naming it.</summary>
public sealed class StartupTests(StartupTests.Stores stores, ITestOutputHelper output) : IClassFixture<StartupTests.Stores>
{
    public sealed class Stores : IAsyncLifetime
    {
        public RedisServerFixture Redis { get; } = new();
        public LoopbackBackend Backend { get; } = new();

        public async Task InitializeAsync()
        {
            await Redis.InitializeAsync();
            await Backend.InitializeAsync();
        }

        public async Task DisposeAsync()
        {
            await Backend.DisposeAsync();
            await Redis.DisposeAsync();
        }
    }

    private GatewayFactory NewGateway() => new(stores.Redis.ConnectionString, stores.Backend.BaseAddress);

    private static async Task<string> StartupFailureAsync(GatewayFactory gateway)
    {
        await using (gateway)
        {
            var ex = await Assert.ThrowsAnyAsync<Exception>(() => gateway.StartAsync());
            var messages = new List<string>();
            for (Exception? e = ex; e is not null; e = e.InnerException)
            {
                messages.Add(e.Message);
                if (e is AggregateException aggregate) messages.AddRange(aggregate.InnerExceptions.Select(i => i.Message));
            }
            return string.Join(" | ", messages);
        }
    }

    [Theory]
    [InlineData("Licensing:IdleTimeout", "00:00:00", "Licensing:IdleTimeout")]
    [InlineData("Licensing:TouchInterval", "01:00:00", "Licensing:TouchInterval")]
    [InlineData("Licensing:DefaultTenant", "not a tenant", "Licensing:DefaultTenant")]
    [InlineData("Licensing:DeviceSources:0", "gps", "Licensing:DeviceSources:0")]
    [InlineData("Licensing:ManagementPath", "_licensing/", "Licensing:ManagementPath")]
    [InlineData("Licensing:OpenApi:Expose", "maybe", "Licensing:OpenApi:Expose")]
    [InlineData("Licensing:Tenants:acme:SeatLimit", "0", "Licensing:Tenants:acme")]
    [InlineData("Licensing:Tenants:acme:MaxSessionsPerUser", "-2", "Licensing:Tenants:acme:MaxSessionsPerUser")]
    [InlineData("Licensing:MaxSessionsPerUser", "-1", "Licensing:MaxSessionsPerUser")]
    [InlineData("Licensing:Enforcement", "Sometimes", "Licensing:Enforcement")]
    [InlineData("Licensing:Enforcement", "7", "Licensing:Enforcement")]
    [InlineData("Licensing:Tenants:acme:Enforcement", "Loose", "Licensing:Tenants:acme:Enforcement")]
    [InlineData("Licensing:Tenants:acme:Enforcement", "3", "Licensing:Tenants:acme:Enforcement")]
    [InlineData("Licensing:MaxUsersPerTenant", "0", "Licensing:MaxUsersPerTenant")]
    [InlineData("Licensing:UserRetention", "00:00:00", "Licensing:UserRetention")]
    [InlineData("Licensing:Embedded:MaxSessions", "-1", "Licensing:Embedded:MaxSessions")]
    [InlineData("Licensing:Console:Enabled", "true", "Licensing:Console:ClientId")]
    [InlineData("ForwardedHeaders:KnownProxies:0", "not-an-ip", "ForwardedHeaders:KnownProxies:0")]
    [InlineData("ForwardedHeaders:KnownNetworks:0", "10.0.0.0/99", "ForwardedHeaders:KnownNetworks:0")]
    [InlineData("Authentication:Schemes:Bearer:ValidAudiences:0", null, "Authentication:Schemes:Bearer:ValidAudiences")]
    [InlineData("Authentication:Schemes:Bearer:ValidatedTokenCacheSize", "-1", "Authentication:Schemes:Bearer:ValidatedTokenCacheSize")]
    [InlineData("Authentication:Schemes:Bearer:KeyRefreshInterval", "00:00:00", "Authentication:Schemes:Bearer:KeyRefreshInterval")]
    [InlineData("ReverseProxy:Routes:api:Metadata:Licensing", "Sometimes", "Route 'api'")]
    [InlineData("ReverseProxy:Routes:api:Metadata:LicensingTenant", "not a tenant", "Route 'api'")]
    [InlineData("ReverseProxy:Clusters:backend:Metadata:LicensingTenant", "not a tenant", "Cluster 'backend'")]
    public async Task Bad_setting_stops_the_start_naming_it(string key, string? value, string named)
    {
        var gateway = NewGateway().With(key, value);
        if (key.StartsWith("Licensing:Tenants:acme", StringComparison.Ordinal)) gateway.With("Licensing:Tenants:acme:Model", "ConcurrentSessions");

        var message = await StartupFailureAsync(gateway);

        output.WriteLine(message);
        Assert.Contains(named, message);
    }

    [Fact]
    public async Task Two_signing_keys_for_one_issuer_stop_the_start_naming_the_key()
    {
        var gateway = NewGateway()
            .With("Authentication:Schemes:Bearer:SigningKeys:1:Issuer", TestTokens.Issuer)
            .With("Authentication:Schemes:Bearer:SigningKeys:1:Value", Convert.ToBase64String(new byte[32]));

        var message = await StartupFailureAsync(gateway);

        output.WriteLine(message);
        Assert.Contains("Authentication:Schemes:Bearer:SigningKeys", message);
    }

    [Fact]
    public async Task Valid_settings_start()
    {
        await using var gateway = NewGateway()
            .With("Licensing:IdleTimeout", "00:05:00")
            .With("Licensing:DeviceSources:0", "header:X-Device-Id")
            .With("ForwardedHeaders:KnownProxies", "10.0.0.1, 10.0.0.2")
            .With("ForwardedHeaders:KnownNetworks:0", "192.168.0.0/16")
            .WithTenant("start-ok", LicenseModel.RegisteredUsers, 3, activeUsers: ["alice"]);

        var client = await gateway.StartAsync();

        await (await client.SendAsync(Get("/api/x", TestTokens.User("start-ok", "alice")))).AssertForwardedAsync();
    }

    [Theory]
    [InlineData(null, null, null, true)]
    [InlineData(null, "false", null, true)]
    [InlineData(null, null, "false", true)]
    [InlineData(null, "false", "false", false)]
    [InlineData("9091", null, null, false)]
    public async Task Metrics_or_openapi_served_on_a_public_port_log_a_warning_at_start(string? managementPort, string? metrics, string? openApi, bool warns)
    {
        var logs = new Hostile.CapturedLogs();
        await using var gateway = NewGateway()
            .With("Licensing:ManagementPort", managementPort)
            .With("Licensing:Metrics:Expose", metrics)
            .With("Licensing:OpenApi:Expose", openApi)
            .WithLogging(logs.AddTo);

        await gateway.StartAsync(waitForPlans: false);

        var warnings = logs.Entries.Where(e => e.Level == Microsoft.Extensions.Logging.LogLevel.Warning && e.Message.Contains("Licensing:ManagementPort", StringComparison.Ordinal)).ToArray();
        foreach (var warning in warnings) output.WriteLine(warning.Message);
        Assert.Equal(warns ? 1 : 0, warnings.Length);
    }
}
