using Gateway.Licensing.Identity;
using Gateway.Licensing.Options;
using Gateway.Licensing.Rules;
using Gateway.Licensing.Sessions;
using Gateway.Licensing.Store;
using Gateway.Licensing.Telemetry;
using Gateway.Licensing.Tests.Infrastructure;
using Gateway.Licensing.Tests.Support;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;

namespace Gateway.Licensing.Tests.Telemetry;

[Collection("redis")]
public sealed class LicensingMetricsTests(RedisServerFixture redis) : IAsyncLifetime
{
    private readonly string _tenant = "t-" + Guid.NewGuid().ToString("N")[..12];
    private Replica _replica = null!;

    public async Task InitializeAsync() => _replica = await Replica.StartAsync(redis.ConnectionString, new LicensingOptions(), 1);

    public async Task DisposeAsync() => await _replica.DisposeAsync();

    private SessionIdentity Id(string user, string device = "d", string? tenant = null) =>
        new(tenant ?? _tenant, user, ClientKind.Desktop, device);

    [Fact]
    public async Task Each_admission_result_and_end_reason_is_counted_once_per_event()
    {
        using var admissions = new MetricCollector<long>(_replica.Meters, LicensingMetrics.MeterName, "licensing.session.admissions");
        using var ended = new MetricCollector<long>(_replica.Meters, LicensingMetrics.MeterName, "licensing.session.ended");
        using var duration = new MetricCollector<double>(_replica.Meters, LicensingMetrics.MeterName, "licensing.session.admission.duration");

        await _replica.Store.SetPlanAsync(_tenant, new TenantPlan(LicenseModel.RegisteredUsers, 5, []), false, "test");
        await _replica.Store.SetUserActiveAsync(_tenant, "alice", true, "test");
        await _replica.Store.SetUserActiveAsync(_tenant, "bob", true, "test");

        await _replica.Admitter.AdmitAsync(Id("alice", "a1"));          // admitted
        await _replica.Admitter.AdmitAsync(Id("alice", "a1"));          // local: not an admission
        await Task.Delay(5);
        await _replica.Admitter.AdmitAsync(Id("alice", "a2"));          // admitted (borrowed)
        await _replica.Admitter.AdmitAsync(Id("alice", "a3"));          // seats_exhausted
        await _replica.Admitter.AdmitAsync(Id("bob"));                  // preempted
        await _replica.Admitter.AdmitAsync(Id("mallory"));              // user_inactive
        await _replica.Admitter.AdmitAsync(Id("x", tenant: _tenant + "-none")); // tenant_unlicensed
        await _replica.Store.SetUserActiveAsync(_tenant, "bob", false, "admin"); // deactivated

        var byResult = admissions.GetMeasurementSnapshot()
            .GroupBy(m => (string)m.Tags["licensing.result"]!)
            .ToDictionary(g => g.Key, g => g.Sum(m => m.Value));
        Assert.Equal(2, byResult["admitted"]);
        Assert.Equal(1, byResult["preempted"]);
        Assert.Equal(1, byResult["seats_exhausted"]);
        Assert.Equal(1, byResult["user_inactive"]);
        Assert.Equal(1, byResult["tenant_unlicensed"]);
        Assert.All(admissions.GetMeasurementSnapshot(), m => Assert.Equal("desktop", m.Tags["licensing.client.kind"]));
        Assert.All(admissions.GetMeasurementSnapshot(), m => Assert.Equal(3, m.Tags.Count));
        Assert.All(admissions.GetMeasurementSnapshot(), m => Assert.NotNull(m.Tags["licensing.tenant"]));

        var byReason = ended.GetMeasurementSnapshot()
            .GroupBy(m => (string)m.Tags["licensing.end_reason"]!)
            .ToDictionary(g => g.Key, g => g.Sum(m => m.Value));
        Assert.Equal(1, byReason["preempted"]);
        Assert.Equal(1, byReason["deactivated"]);
        Assert.Equal(2, byReason.Count);

        Assert.Equal(6, duration.GetMeasurementSnapshot().Count);
        Assert.All(duration.GetMeasurementSnapshot(), m => Assert.True(m.Value >= 0)); // local time is faked here
    }

    [Fact]
    public async Task Seat_gauges_report_the_stores_counts_per_tenant()
    {
        await _replica.Store.SetPlanAsync(_tenant, new TenantPlan(LicenseModel.ConcurrentSessions, 7, []), false, "test");
        await _replica.Store.SetUserActiveAsync(_tenant, "alice", true, "test");
        await _replica.Admitter.AdmitAsync(Id("alice"));
        await _replica.Admitter.AdmitAsync(Id("bob"));

        using var sessions = new MetricCollector<int>(_replica.Meters, LicensingMetrics.MeterName, "licensing.session.active");
        using var users = new MetricCollector<int>(_replica.Meters, LicensingMetrics.MeterName, "licensing.user.active");
        using var limit = new MetricCollector<int>(_replica.Meters, LicensingMetrics.MeterName, "licensing.seat.limit");
        await _replica.Gauges.SampleAsync();
        sessions.RecordObservableInstruments();
        users.RecordObservableInstruments();
        limit.RecordObservableInstruments();

        int Of(MetricCollector<int> c) => c.GetMeasurementSnapshot().Single(m => (string?)m.Tags["licensing.tenant"] == _tenant).Value;
        Assert.Equal(2, Of(sessions));
        Assert.Equal(1, Of(users));
        Assert.Equal(7, Of(limit));
    }
}
