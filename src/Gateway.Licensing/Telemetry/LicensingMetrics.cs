using System.Diagnostics;
using System.Diagnostics.Metrics;
using Gateway.Licensing.Identity;
using Gateway.Licensing.Results;
using Gateway.Licensing.Sessions;

namespace Gateway.Licensing.Telemetry;

/// <summary>
/// The <c>Gateway.Licensing</c> meter (docs/operations.md lists its instruments). Attributes never carry user, device or session ids:
/// only the result, the client kind, the end reason and the tenant (on the admission and end
/// counters bounded by <see cref="TenantLabels"/>).
/// </summary>
public sealed class LicensingMetrics : ISessionEndedListener
{
    /// <summary>The name of the engine's meter, for a host's metrics pipeline.</summary>
    public const string MeterName = "Gateway.Licensing";

    /// <summary>The name of the engine's activity source (one activity per store decision), for a host's tracing pipeline.</summary>
    public const string ActivitySourceName = "Gateway.Licensing";

    /// <summary>Traces of admissions; one activity per store decision.</summary>
    internal static readonly ActivitySource ActivitySource = new(ActivitySourceName);

    private readonly Counter<long> _admissions;
    private readonly Counter<long> _ended;
    private readonly Histogram<double> _admissionDuration;
    private readonly Counter<long> _storeErrors;
    private readonly Counter<long> _failOpen;
    private readonly Counter<long> _shared;
    private readonly TenantLabels? _tenants;

    /// <param name="meterFactory">Creates the meter.</param>
    /// <param name="tenants">Bounds the tenant attribute; without it every tenant id is its own label.</param>
    internal LicensingMetrics(IMeterFactory meterFactory, TenantLabels? tenants = null)
    {
        _tenants = tenants;
        var meter = meterFactory.Create(MeterName);
        _admissions = meter.CreateCounter<long>("licensing.session.admissions", "{session}",
            "Admission decisions, by result and client kind.");
        _ended = meter.CreateCounter<long>("licensing.session.ended", "{session}",
            "Sessions ended, by reason.");
        _admissionDuration = meter.CreateHistogram<double>("licensing.session.admission.duration", "s",
            "Time to decide an admission through the store.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1] });
        _storeErrors = meter.CreateCounter<long>("licensing.store.errors", "{error}",
            "Store calls that failed because the store was unreachable or too slow.");
        _failOpen = meter.CreateCounter<long>("licensing.session.fail_open", "{request}",
            "Requests forwarded unchecked because the store was unavailable and StoreUnavailable=FailOpen.");
        _shared = meter.CreateCounter<long>("licensing.session.shared", "{session}",
            "Sessions used from a second client address or User-Agent while live; each session counted once.");
    }

    /// <param name="outcome">The decision.</param>
    /// <param name="kind">The session's client kind.</param>
    /// <param name="tenant">The session's tenant.</param>
    /// <param name="shadowOf">
    /// In shadow mode, what enforcement would have decided instead of admitting; counted as
    /// <c>shadow_</c> and that outcome (<c>shadow_seats_exhausted</c>).
    /// </param>
    internal void Admission(AdmissionOutcome outcome, ClientKind kind, string tenant, AdmissionOutcome? shadowOf = null) =>
        _admissions.Add(1,
            new KeyValuePair<string, object?>("licensing.result", shadowOf is { } wouldBe ? wouldBe.ToShadowMetricValue() : outcome.ToMetricValue()),
            new KeyValuePair<string, object?>("licensing.client.kind", kind.ToName()),
            new KeyValuePair<string, object?>("licensing.tenant", TenantLabel(tenant)));

    private string TenantLabel(string tenant) => _tenants?.Of(tenant) ?? tenant;

    internal void AdmissionDuration(TimeSpan elapsed, AdmissionOutcome outcome) =>
        _admissionDuration.Record(elapsed.TotalSeconds, new KeyValuePair<string, object?>("licensing.result", outcome.ToMetricValue()));

    internal void StoreError() => _storeErrors.Add(1);

    internal void FailOpen() => _failOpen.Add(1);

    internal void SessionShared(ClientKind kind) =>
        _shared.Add(1, new KeyValuePair<string, object?>("licensing.client.kind", kind.ToName()));

    void ISessionEndedListener.OnSessionsEnded(IReadOnlyList<EndedSession> ended)
    {
        foreach (var e in ended)
        {
            _ended.Add(1,
                new KeyValuePair<string, object?>("licensing.end_reason", e.Reason),
                new KeyValuePair<string, object?>("licensing.tenant", TenantLabel(e.Tenant)));
        }
    }
}
