using Gateway.Licensing.Store;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace Gateway.Licensing.Sessions;

/// <summary>
/// Makes an ended session stop on every replica: the acting replica forgets it before the store call
/// returns, and announces it on a pub/sub channel that every replica applies on arrival (SPEC §4).
/// Sessions ended for idleness need no announcement: no replica trusts an entry that long unconfirmed.
/// </summary>
public sealed partial class RevocationBus : ISessionEndedListener, IHostedService
{
    private readonly LocalSessionCache _cache;
    private readonly IConnectionMultiplexer _connection;
    private readonly ILogger<RevocationBus> _logger;

    public RevocationBus(LocalSessionCache cache, IConnectionMultiplexer connection, ILogger<RevocationBus> logger)
    {
        _cache = cache;
        _connection = connection;
        _logger = logger;
    }

    public void OnSessionsEnded(IReadOnlyList<EndedSession> ended)
    {
        string? message = null;
        foreach (var e in ended)
        {
            _cache.Forget(e.SessionId);
            if (e.Reason != EndReason.Idle) message = message is null ? e.SessionId : message + " " + e.SessionId;
        }
        if (message is null) return;
        _ = PublishAsync(message);
    }

    private async Task PublishAsync(string message)
    {
        try
        {
            await _connection.GetSubscriber().PublishAsync(TenantKeys.RevocationChannel, message).ConfigureAwait(false);
        }
        catch (Exception ex) when (LicenseStore.IsUnavailable(ex))
        {
            // The other replicas' touches find the session gone within one touch interval.
            LogPublishFailed(ex);
        }
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        // The store may be down at start; the gateway starts anyway and subscribes once it answers.
        _subscribing = Task.Run(() => SubscribeAsync(_stopping.Token), CancellationToken.None);
        return Task.CompletedTask;
    }

    private readonly CancellationTokenSource _stopping = new();
    private Task _subscribing = Task.CompletedTask;

    private async Task SubscribeAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await _connection.GetSubscriber().SubscribeAsync(TenantKeys.RevocationChannel, (_, message) => Apply(message)).ConfigureAwait(false);
                return;
            }
            catch (Exception ex) when (LicenseStore.IsUnavailable(ex))
            {
                LogSubscribeFailed(ex);
                try { await Task.Delay(TimeSpan.FromSeconds(1), stoppingToken).ConfigureAwait(false); }
                catch (OperationCanceledException) { return; }
            }
        }
    }

    private void Apply(RedisValue message)
    {
        var text = (string?)message;
        if (string.IsNullOrEmpty(text)) return;
        foreach (var range in text.AsSpan().Split(' '))
        {
            if (range.End.Value > range.Start.Value) _cache.Forget(text[range]);
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        await _subscribing.ConfigureAwait(false);
        try
        {
            await _connection.GetSubscriber().UnsubscribeAsync(TenantKeys.RevocationChannel).ConfigureAwait(false);
        }
        catch (Exception ex) when (LicenseStore.IsUnavailable(ex))
        {
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not subscribe to revocations yet; retrying")]
    private partial void LogSubscribeFailed(Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not announce ended sessions to other replicas")]
    private partial void LogPublishFailed(Exception exception);
}
