using Gateway.Licensing.Options;
using Gateway.Licensing.Sessions;
using Gateway.Licensing.Tests.Support;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Licensing.Tests.Sessions;

/// <summary>
/// The embedded store's session ceiling without a store: its count, and its warning, which must not
/// flood the log while every new session is refused. The store's part is in Gateway.Tests' EmbeddedStoreTests.
/// </summary>
public sealed class SessionCeilingTests
{
    private readonly LicensingOptions _options = new() { Embedded = { MaxSessions = 3 } };
    private readonly FakeTimeProvider _time = new(DateTimeOffset.UtcNow);
    private readonly FakeLogger<SessionCeiling> _logger = new();

    // The store is only read by SampleAsync, which these tests do not call.
    private SessionCeiling NewCeiling() => new(null!, new StaticOptionsMonitor<LicensingOptions>(_options), _time, _logger);

    [Fact]
    public void Created_sessions_reach_the_ceiling_and_zero_means_none()
    {
        var ceiling = NewCeiling();
        ceiling.SessionCreated();
        ceiling.SessionCreated();
        Assert.False(ceiling.IsReached);
        ceiling.SessionCreated();
        Assert.Equal(3, ceiling.Count);
        Assert.True(ceiling.IsReached);

        _options.Embedded.MaxSessions = 0;
        Assert.False(ceiling.IsReached);
    }

    [Fact]
    public void Refusals_are_logged_at_most_once_a_minute_with_how_many_were_refused()
    {
        var ceiling = NewCeiling();
        for (var i = 0; i < 3; i++) ceiling.SessionCreated();

        for (var i = 0; i < 5; i++) ceiling.Refused("acme");
        var first = Assert.Single(_logger.Collector.GetSnapshot());
        Assert.Equal(1500, first.Id.Id);
        Assert.Equal(LogLevel.Warning, first.Level);
        Assert.Contains("Licensing:Embedded:MaxSessions = 3", first.Message);

        _time.Advance(SessionCeiling.WarningInterval - TimeSpan.FromSeconds(1));
        ceiling.Refused("acme");
        Assert.Single(_logger.Collector.GetSnapshot());

        _time.Advance(TimeSpan.FromSeconds(1));
        ceiling.Refused("globex");
        var logs = _logger.Collector.GetSnapshot();
        Assert.Equal(2, logs.Count);
        // The four after the first line, the one a second short of a minute, and this one.
        Assert.Contains("6 refused since the last such line", logs[1].Message);
        Assert.Contains("tenant globex", logs[1].Message);
    }
}
