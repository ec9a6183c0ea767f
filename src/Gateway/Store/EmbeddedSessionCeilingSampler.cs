using Gateway.Licensing.Sessions;
using Gateway.Licensing.Store;

namespace Gateway.Store;

/// <summary>
/// Reads the embedded store's total of live sessions every <see cref="SessionCeiling.SampleInterval"/>, so
/// that <see cref="SessionCeiling"/> counts from the store's own figure rather than drifting. Does nothing
/// when the gateway runs on Redis (no ceiling there) or when <c>Licensing:Embedded:MaxSessions</c> is 0.
/// </summary>
internal sealed class EmbeddedSessionCeilingSampler(IServiceProvider services, TimeProvider time) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Registered only on the embedded store (null on Redis).
        if (services.GetService<SessionCeiling>() is not { } ceiling) return;
        while (!stoppingToken.IsCancellationRequested)
        {
            if (ceiling.MaxSessions > 0) await ceiling.SampleAsync().ConfigureAwait(false);
            try
            {
                await Task.Delay(SessionCeiling.SampleInterval, time, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}
