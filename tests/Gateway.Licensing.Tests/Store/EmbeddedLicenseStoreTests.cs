using Gateway.Licensing.Embedded;
using StackExchange.Redis;

namespace Gateway.Licensing.Tests.Store;

/// <summary>One embedded store (Garnet, in-process) shared by the embedded contract run.</summary>
public sealed class EmbeddedStoreFixture : IAsyncLifetime
{
    private readonly string _dataPath = Path.Combine(
        Environment.GetEnvironmentVariable("GATEWAY_TEST_TMP") ?? Path.GetTempPath(), "embedded-" + Guid.NewGuid().ToString("N"));

    public EmbeddedRedisServer Server { get; private set; } = null!;

    public ConnectionMultiplexer Connection { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Server = EmbeddedRedisServer.Start(_dataPath);
        Connection = await ConnectionMultiplexer.ConnectAsync(Server.ConnectionString + ",allowAdmin=true");
    }

    public async Task DisposeAsync()
    {
        await Connection.DisposeAsync();
        await Server.DisposeAsync();
        try { Directory.Delete(_dataPath, recursive: true); } catch (IOException) { }
    }
}

/// <summary>The licensing rules on the embedded store: the same scripts must behave the same.</summary>
public sealed class EmbeddedLicenseStoreTests(EmbeddedStoreFixture embedded) : LicenseStoreContractTests, IClassFixture<EmbeddedStoreFixture>
{
    protected override IConnectionMultiplexer Connection => embedded.Connection;
}
