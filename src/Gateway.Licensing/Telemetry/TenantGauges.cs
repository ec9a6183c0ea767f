using System.Diagnostics.Metrics;
using Gateway.Licensing.Options;
using Gateway.Licensing.Results;
using Gateway.Licensing.Store;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Gateway.Licensing.Telemetry;

/// <summary>
/// Per-tenant seat gauges with store-wide values (every replica reads the same store). Sampled in
/// the background at a fixed rate, so a scrape never costs a store call, for at most
/// <see cref="MetricsOptions.MaxTenants"/> tenants in tenant-id order.
/// </summary>
internal sealed partial class TenantGauges : BackgroundService
{
    /// <summary>How often the store is sampled; well inside the 10 s the gauges must be fresh within.</summary>
    public static readonly TimeSpan SampleInterval = TimeSpan.FromSeconds(5);

    private readonly LicenseStore _store;
    private readonly IOptionsMonitor<LicensingOptions> _options;
    private readonly TimeProvider _time;
    private readonly ILogger<TenantGauges> _logger;
    private readonly TenantLabels? _labels;
    /// <summary>
    /// How long a listing of the registry is reused while the registry's size is unchanged. Tenants are
    /// only ever added, so a new one changes the size and is listed at the next sample; the relisting
    /// guards against anything else. Listing 10,000 tenants every 5 s on every replica was the largest
    /// store cost of the gauges.
    /// </summary>
    internal static readonly TimeSpan RelistInterval = TimeSpan.FromMinutes(1);

    private volatile IReadOnlyList<TenantSeats> _snapshots = [];
    private IReadOnlyList<string>? _tenants;
    private long _listedAt;

    /// <param name="store">Where the seats are read.</param>
    /// <param name="meterFactory">Creates the meter.</param>
    /// <param name="options">The licensing options.</param>
    /// <param name="time">The clock of the sampling period.</param>
    /// <param name="logger">Logs failed samples.</param>
    /// <param name="labels">Told which tenants have gauges, so the counters label the same tenants.</param>
    public TenantGauges(LicenseStore store, IMeterFactory meterFactory, IOptionsMonitor<LicensingOptions> options, TimeProvider time, ILogger<TenantGauges> logger, TenantLabels? labels = null)
    {
        _labels = labels;
        var meter = meterFactory.Create(LicensingMetrics.MeterName);
        meter.CreateObservableGauge("licensing.session.active", ObserveSessions, "{session}", "Live sessions per tenant, store-wide.");
        meter.CreateObservableGauge("licensing.user.active", ObserveUsers, "{user}", "Active users per tenant, store-wide.");
        meter.CreateObservableGauge("licensing.seat.limit", ObserveSeatLimits, "{seat}", "Seat limit per tenant.");
        _store = store;
        _options = options;
        _time = time;
        _logger = logger;
    }

    public IReadOnlyList<TenantSeats> Snapshots => _snapshots;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            await SampleAsync().ConfigureAwait(false);
            try
            {
                await Task.Delay(SampleInterval, _time, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>Reads every (bounded) tenant's counts from the store now.</summary>
    public async Task SampleAsync()
    {
        try
        {
            var max = _options.CurrentValue.Metrics.MaxTenants;
            var count = await _store.CountTenantsAsync().ConfigureAwait(false);
            var now = _time.GetTimestamp();
            if (_tenants is null || _tenants.Count != count || _time.GetElapsedTime(_listedAt, now) >= RelistInterval)
            {
                _tenants = await _store.ListTenantsAsync().ConfigureAwait(false);
                _listedAt = now;
            }
            var tenants = _tenants;
            var reads = tenants.Take(max).Select(_store.GetSeatsAsync).ToArray();
            var snapshots = await Task.WhenAll(reads).ConfigureAwait(false);
            _snapshots = snapshots.OfType<TenantSeats>().ToArray();
            _labels?.Update(_snapshots.Select(t => t.Tenant));
            if (tenants.Count > max) LogTenantsCapped(tenants.Count, max);
        }
        catch (StoreUnavailableException ex)
        {
            // Keep the last values: a scrape during an outage shows the last known seats.
            LogSampleFailed(ex);
        }
    }

    private IEnumerable<Measurement<int>> ObserveSessions() => Observe(s => s.ActiveSessions);

    private IEnumerable<Measurement<int>> ObserveUsers() => Observe(s => s.ActiveUsers);

    private IEnumerable<Measurement<int>> ObserveSeatLimits() => Observe(s => s.SeatLimit);

    private IEnumerable<Measurement<int>> Observe(Func<TenantSeats, int> value)
    {
        foreach (var s in _snapshots)
        {
            yield return new Measurement<int>(value(s), new KeyValuePair<string, object?>("licensing.tenant", s.Tenant));
        }
    }

    [LoggerMessage(EventId = 1090, Level = LogLevel.Debug, Message = "{Count} tenants exceed Licensing:Metrics:MaxTenants={Max}; gauges cover the first {Max} by id")]
    private partial void LogTenantsCapped(int count, int max);

    [LoggerMessage(EventId = 1091, Level = LogLevel.Debug, Message = "Could not sample tenant gauges; keeping the last values")]
    private partial void LogSampleFailed(Exception exception);
}
