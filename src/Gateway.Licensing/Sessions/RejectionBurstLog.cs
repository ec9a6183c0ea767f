using System.Collections.Concurrent;
using Gateway.Licensing.Results;
using Microsoft.Extensions.Logging;

namespace Gateway.Licensing.Sessions;

/// <summary>
/// Logs refusals as bursts: one Information line per tenant and outcome per window, with the count
/// since the last line, so a tenant at its cap does not flood the log with one line per request.
/// </summary>
internal sealed partial class RejectionBurstLog
{
    public static readonly TimeSpan Window = TimeSpan.FromSeconds(30);
    private const int MaxTracked = 10_000;

    private readonly ConcurrentDictionary<(string Tenant, AdmissionOutcome Outcome), Burst> _bursts = new();
    private readonly TimeProvider _time;
    private readonly ILogger<RejectionBurstLog> _logger;

    public RejectionBurstLog(TimeProvider time, ILogger<RejectionBurstLog> logger)
    {
        _time = time;
        _logger = logger;
    }

    public void Rejected(string tenant, AdmissionOutcome outcome)
    {
        if (!_logger.IsEnabled(LogLevel.Information)) return;
        var now = _time.GetTimestamp();
        if (!_bursts.TryGetValue((tenant, outcome), out var burst))
        {
            // Counting a ConcurrentDictionary takes all its locks: only done for a new key.
            if (_bursts.Count >= MaxTracked) _bursts.Clear();
            burst = _bursts.GetOrAdd((tenant, outcome), _ => new Burst { StartedAt = now, Count = 0 });
        }
        var count = Interlocked.Increment(ref burst.Count);
        if (count == 1)
        {
            LogBurstStarted(tenant, outcome);
        }
        else if (_time.GetElapsedTime(Volatile.Read(ref burst.StartedAt), now) >= Window
            && _bursts.TryRemove(new KeyValuePair<(string, AdmissionOutcome), Burst>((tenant, outcome), burst)))
        {
            LogBurst(tenant, outcome, count, Window);
        }
    }

    private sealed class Burst
    {
        public long StartedAt;
        public int Count;
    }

    [LoggerMessage(EventId = 1010, Level = LogLevel.Information, Message = "Tenant {Tenant}: admission refused ({Outcome}); further refusals are summarised")]
    private partial void LogBurstStarted(string tenant, AdmissionOutcome outcome);

    [LoggerMessage(EventId = 1011, Level = LogLevel.Information, Message = "Tenant {Tenant}: {Count} admissions refused ({Outcome}) within about {Window}")]
    private partial void LogBurst(string tenant, AdmissionOutcome outcome, int count, TimeSpan window);
}
