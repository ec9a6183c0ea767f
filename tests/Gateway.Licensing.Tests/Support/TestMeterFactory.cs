using System.Diagnostics.Metrics;

namespace Gateway.Licensing.Tests.Support;

/// <summary>A meter factory that owns its meters, so tests can listen to them with MetricCollector.</summary>
public sealed class TestMeterFactory : IMeterFactory
{
    private readonly List<Meter> _meters = [];

    public Meter Create(MeterOptions options)
    {
        var meter = new Meter(options.Name, options.Version, options.Tags, scope: this);
        lock (_meters) _meters.Add(meter);
        return meter;
    }

    public void Dispose()
    {
        lock (_meters)
        {
            foreach (var m in _meters) m.Dispose();
            _meters.Clear();
        }
    }
}
