using Gateway.Licensing.Options;
using Gateway.Licensing.Store;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Gateway.Store;

/// <summary>
/// Checkpoints the embedded store every <c>Licensing:Embedded:CheckpointInterval</c>. Its log is
/// truncated after a checkpoint, so it stays small and a restart replays only what came since.
/// Does nothing when the gateway runs on Redis (Redis rewrites its own AOF).
/// </summary>
internal sealed partial class EmbeddedStoreCheckpointer(
    IConfiguration configuration,
    IServiceProvider services,
    IOptionsMonitor<LicensingOptions> options,
    TimeProvider time,
    ILogger<EmbeddedStoreCheckpointer> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!StoreConnector.UsesEmbeddedStore(configuration)) return;
        var connection = services.GetRequiredService<IConnectionMultiplexer>();
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(options.CurrentValue.Embedded.CheckpointInterval, time, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            try
            {
                await connection.GetDatabase().ExecuteAsync("BGSAVE").ConfigureAwait(false);
                LogCheckpoint(logger);
            }
            catch (Exception ex) when (LicenseStore.IsUnavailable(ex) || ex is RedisException)
            {
                LogCheckpointFailed(logger, ex);
            }
        }
    }

    [LoggerMessage(EventId = 2100, Level = LogLevel.Debug, Message = "Embedded store checkpoint started")]
    private static partial void LogCheckpoint(ILogger logger);

    [LoggerMessage(EventId = 2101, Level = LogLevel.Warning, Message = "Embedded store checkpoint failed; retrying at the next interval")]
    private static partial void LogCheckpointFailed(ILogger logger, Exception exception);
}
