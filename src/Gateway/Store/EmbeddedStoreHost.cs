using Gateway.Licensing.Embedded;
using Gateway.Licensing.Options;
using Microsoft.Extensions.Options;

namespace Gateway.Store;

/// <summary>
/// Owns the in-process store that runs when <c>ConnectionStrings:Redis</c> is empty. Created
/// on first use by <see cref="StoreConnector"/> and disposed with the container, after the connection.
/// </summary>
internal sealed partial class EmbeddedStoreHost : IDisposable, IAsyncDisposable
{
    /// <summary>Log category of Garnet itself (verbose at Information; the shipped settings keep it at Warning).</summary>
    public const string GarnetLogCategory = "Gateway.Licensing.Embedded.Garnet";

    private readonly EmbeddedRedisServer _server;

    public EmbeddedStoreHost(IHostEnvironment environment, IOptions<LicensingOptions> options, ILoggerFactory loggers)
    {
        var embedded = options.Value.Embedded;
        DataPath = Path.GetFullPath(Path.Combine(environment.ContentRootPath, embedded.DataPath));
        var logger = loggers.CreateLogger<EmbeddedStoreHost>();
        _server = EmbeddedRedisServer.Start(DataPath, embedded.Port, loggers.CreateLogger(GarnetLogCategory));
        LogStarted(logger, _server.Port, DataPath);
    }

    /// <summary>The data directory, resolved against the content root.</summary>
    public string DataPath { get; }

    public string ConnectionString => _server.ConnectionString;

    public void Dispose() => _server.Dispose();

    public ValueTask DisposeAsync() => _server.DisposeAsync();

    [LoggerMessage(EventId = 2090, Level = LogLevel.Information, Message = "Embedded licensing store listening on 127.0.0.1:{Port}, data in {DataPath} (single replica only)")]
    private static partial void LogStarted(ILogger logger, int port, string dataPath);
}
