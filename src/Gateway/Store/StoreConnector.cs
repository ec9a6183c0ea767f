using StackExchange.Redis;

namespace Gateway.Store;

/// <summary>
/// Creates the one shared <see cref="IConnectionMultiplexer"/>: to <c>ConnectionStrings:Redis</c> when
/// set, else to the embedded store. Never fails because the store is down: the multiplexer keeps
/// reconnecting in the background and store calls fail fast meanwhile.
/// </summary>
internal sealed partial class StoreConnector(IConfiguration configuration, IServiceProvider services, ILogger<StoreConnector> logger)
{
    public const string ConnectionStringName = "Redis";
    public const string ConnectionStringKey = "ConnectionStrings:" + ConnectionStringName;

    /// <summary>Whether the gateway runs on the embedded store: <c>ConnectionStrings:Redis</c> is empty.</summary>
    public static bool UsesEmbeddedStore(IConfiguration configuration) =>
        string.IsNullOrWhiteSpace(configuration.GetConnectionString(ConnectionStringName));

    public IConnectionMultiplexer Connect()
    {
        var configured = configuration.GetConnectionString(ConnectionStringName);
        ConfigurationOptions options;
        if (UsesEmbeddedStore(configuration))
        {
            var embedded = services.GetRequiredService<EmbeddedStoreHost>();
            options = StoreConnectionOptions.Create(embedded.ConnectionString, "The embedded store's connection string");
        }
        else
        {
            options = StoreConnectionOptions.Create(configured!, ConnectionStringKey);
        }

        // Endpoints only: the configuration string may carry a password.
        LogConnecting(logger, string.Join(", ", options.EndPoints.Select(EndPointCollection.ToString)));
        var connection = ConnectionMultiplexer.Connect(options);
        if (!connection.IsConnected) LogNotConnected(logger);
        return connection;
    }

    [LoggerMessage(EventId = 2080, Level = LogLevel.Information, Message = "Connecting to the licensing store at {EndPoints}")]
    private static partial void LogConnecting(ILogger logger, string endPoints);

    [LoggerMessage(EventId = 2081, Level = LogLevel.Warning, Message = "The licensing store is not reachable yet; the gateway starts anyway and keeps reconnecting")]
    private static partial void LogNotConnected(ILogger logger);
}
