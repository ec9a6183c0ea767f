using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.Options;

namespace Gateway.Authentication;

/// <summary>
/// Fetches the identity provider's signing keys at start and every <c>KeyRefreshInterval</c> (see
/// <see cref="DiscoveredSigningKeys"/>), whether or not tokens arrive: a cached token never runs the
/// bearer handler, so the keys must be kept fresh without it. Does nothing with static signing keys.
/// </summary>
internal sealed class SigningKeyRefresher(
    IOptionsMonitor<JwtBearerOptions> bearer,
    IOptions<BearerTokenOptions> options,
    TimeProvider time) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.KeyRefreshInterval, time);
        do
        {
            // The current options instance: a configuration reload brings its own key source.
            if (bearer.Get(JwtBearerDefaults.AuthenticationScheme).ConfigurationManager is DiscoveredSigningKeys keys)
                await keys.RefreshAsync().WaitAsync(stoppingToken).ConfigureAwait(false);
        }
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
    }
}
