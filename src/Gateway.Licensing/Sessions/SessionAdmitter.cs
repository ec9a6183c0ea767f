using Gateway.Licensing.Identity;
using Gateway.Licensing.Options;
using Gateway.Licensing.Results;
using Gateway.Licensing.Rules;
using Gateway.Licensing.Store;
using Gateway.Licensing.Telemetry;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Gateway.Licensing.Sessions;

/// <summary>
/// Decides each enforced request. A session this replica admitted is remembered locally and
/// forwarded without a store call while the store's confirmation of it is fresh; its sliding expiry
/// is refreshed lazily, at most once per <see cref="LicensingOptions.TouchInterval"/>, in batches.
/// Everything else goes to the store's admission script. Applies the outage policy (<see cref="StoreUnavailableBehavior"/>).
/// </summary>
/// <remarks>
/// A remembered session is forwarded without the store only while all of these hold:
/// <list type="bullet">
/// <item>its last confirmation was sent after the revocation subscription was last proven
/// (<see cref="RevocationBus.TrustedSince"/>), so no announcement of its end can have been missed;</item>
/// <item>that confirmation is less than <see cref="LicensingOptions.IdleTimeout"/> old: the store keeps the
/// session IdleTimeout + TouchInterval after it, which leaves a touch interval for the touch queued now
/// to land;</item>
/// <item>a service session's deadline, as learnt from the store's answer and counted from when the
/// question was sent (never later than the store's own), has not come.</item>
/// </list>
/// </remarks>
public sealed partial class SessionAdmitter
{
    private readonly LicenseStore _store;
    private readonly LocalSessionCache _cache;
    private readonly TouchBatcher _touches;
    private readonly RevocationBus _revocations;
    private readonly StoreHealth _health;
    private readonly IOptionsMonitor<LicensingOptions> _options;
    private readonly TimeProvider _time;
    private readonly LicensingMetrics _metrics;
    private readonly RejectionBurstLog _rejections;
    private readonly SessionSharing? _sharing;
    private readonly SessionCeiling? _ceiling;
    private readonly ILogger<SessionAdmitter> _logger;

    internal SessionAdmitter(
        LicenseStore store,
        LocalSessionCache cache,
        TouchBatcher touches,
        RevocationBus revocations,
        StoreHealth health,
        IOptionsMonitor<LicensingOptions> options,
        TimeProvider time,
        LicensingMetrics metrics,
        RejectionBurstLog rejections,
        ILogger<SessionAdmitter> logger,
        SessionSharing? sharing = null,
        SessionCeiling? ceiling = null)
    {
        _sharing = sharing;
        _ceiling = ceiling;
        _rejections = rejections;
        _metrics = metrics;
        _store = store;
        _cache = cache;
        _touches = touches;
        _revocations = revocations;
        _health = health;
        _options = options;
        _time = time;
        _logger = logger;
    }

    /// <summary>Decides one enforced request of <paramref name="identity"/>'s session.</summary>
    public ValueTask<AdmissionDecision> AdmitAsync(SessionIdentity identity) => AdmitAsync(identity, identity.ComputeSessionId());

    /// <summary>Decides one enforced request of <paramref name="identity"/>'s session, from an origin.</summary>
    /// <param name="identity">The session's identity.</param>
    /// <param name="sessionId">
    /// <paramref name="identity"/>'s <see cref="SessionIdentity.ComputeSessionId"/>, for a caller that
    /// keeps it (the proxy does, per token and device, so the steady path hashes nothing).
    /// </param>
    /// <param name="origin">Where this use comes from (client address and User-Agent, hashed; 0 = unknown), for the sharing signal.</param>
    public ValueTask<AdmissionDecision> AdmitAsync(SessionIdentity identity, string sessionId, long origin = 0)
    {
        System.Diagnostics.Debug.Assert(sessionId == identity.ComputeSessionId(), "The session id must be the identity's.");
        var options = _options.CurrentValue;
        var now = _time.GetTimestamp();

        if (_cache.TryGet(sessionId, out var entry))
        {
            if (_health.IsUnavailable)
            {
                return ValueTask.FromResult(Unavailable(options, identity, sessionId, entry, now));
            }

            var confirmedAt = Volatile.Read(ref entry.ConfirmedAt);
            var sinceConfirmed = _time.GetElapsedTime(confirmedAt, now);
            if (confirmedAt >= _revocations.TrustedSince && sinceConfirmed < options.IdleTimeout && now < Volatile.Read(ref entry.Deadline))
            {
                Volatile.Write(ref entry.LastRequestAt, now);
                if (sinceConfirmed >= options.EffectiveTouchInterval) _touches.Enqueue(entry);
                if (origin != 0 && origin != Volatile.Read(ref entry.Origin) && Volatile.Read(ref entry.SecondOriginSeen) == 0)
                    _sharing?.OnOtherOrigin(identity, sessionId, entry, origin);
                return ValueTask.FromResult(new AdmissionDecision(AdmissionOutcome.Admitted, sessionId, null) { FromLocalCache = true, Entry = entry, ShadowOf = entry.ShadowOf });
            }
        }

        return AdmitThroughStoreAsync(identity, sessionId, options, now, origin);
    }

    /// <summary>Ends the caller's session (a <c>Release</c> route answered 2xx/3xx). Returns false when there was none.</summary>
    public async Task<bool> ReleaseAsync(SessionIdentity identity)
    {
        var sessionId = identity.ComputeSessionId();
        _cache.Forget(sessionId);
        try
        {
            return await _store.EndSessionAsync(identity.Tenant, sessionId, EndReason.Logout, identity.User).ConfigureAwait(false);
        }
        catch (StoreUnavailableException ex)
        {
            if (_health.ReportFailure()) LogStoreUnavailable(_options.CurrentValue.StoreUnavailable, ex);
            _metrics.StoreError();
            throw;
        }
    }

    private async ValueTask<AdmissionDecision> AdmitThroughStoreAsync(SessionIdentity identity, string sessionId, LicensingOptions options, long now, long origin)
    {
        using var activity = LicensingMetrics.ActivitySource.StartActivity("licensing.admit");
        activity?.SetTag("licensing.tenant", identity.Tenant);
        activity?.SetTag("licensing.client.kind", identity.ClientKind.ToName());
        AdmissionResult result;
        try
        {
            if (_ceiling is { IsReached: true } ceiling && !_cache.TryGet(sessionId, out _)
                && !await _store.SessionExistsAsync(identity.Tenant, sessionId).ConfigureAwait(false))
            {
                ceiling.Refused(identity.Tenant);
                _metrics.Admission(AdmissionOutcome.StoreUnavailable, identity.ClientKind, identity.Tenant);
                activity?.SetTag("licensing.result", AdmissionOutcome.StoreUnavailable.ToMetricValue());
                return new AdmissionDecision(AdmissionOutcome.StoreUnavailable, sessionId, null) { SessionCeilingReached = true };
            }
            result = await _store.AdmitAsync(identity, sessionId, origin).ConfigureAwait(false);
        }
        catch (StoreUnavailableException ex)
        {
            if (_health.ReportFailure()) LogStoreUnavailable(options.StoreUnavailable, ex);
            _metrics.StoreError();
            _cache.TryGet(sessionId, out var entry);
            var fallback = Unavailable(options, identity, sessionId, entry, now);
            activity?.SetTag("licensing.result", fallback.Outcome.ToMetricValue());
            activity?.SetStatus(System.Diagnostics.ActivityStatusCode.Error, "store unavailable");
            return fallback;
        }

        if (_health.ReportSuccess()) LogStoreAvailable();
        _metrics.AdmissionDuration(_time.GetElapsedTime(now), result.Outcome);
        activity?.SetTag("licensing.result", result.Outcome.ToMetricValue());
        activity?.SetTag("licensing.session.created", result.Created);
        if (result.ShadowOf is { } wouldBe) activity?.SetTag("licensing.shadow", wouldBe.ToMetricValue());
        // A refresh of a live session is not an admission; every refusal is. A session admitted in
        // shadow mode over a would-be refusal counts as that, once, when it starts.
        if (result.Created) _ceiling?.SessionCreated();
        if (result.Created || !result.IsAdmitted) _metrics.Admission(result.Outcome, identity.ClientKind, identity.Tenant, result.Created ? result.ShadowOf : null);
        if (result.Created && result.ShadowOf is { } shadowed) LogShadowed(identity.Tenant, shadowed);
        if (result.Shared) _sharing?.OnReportedByStore(identity.ClientKind);
        LocalSessionCache.Entry? admitted = null;
        if (result.IsAdmitted)
        {
            // Counted from when the question was sent: never later than the store's own deadline.
            var deadline = result.LifetimeLeft is { } left ? now + (long)(left.TotalSeconds * _time.TimestampFrequency) : long.MaxValue;
            admitted = _cache.Confirmed(identity.Tenant, sessionId, now, result.SessionStartedMs, deadline);
            if (origin != 0 && admitted is not null) Interlocked.CompareExchange(ref admitted.Origin, origin, 0);
            if (admitted is not null) admitted.ShadowOf = result.ShadowOf;
        }
        else
        {
            _cache.Forget(sessionId);
            _rejections.Rejected(identity.Tenant, result.Outcome);
        }
        LogDecision(identity.Tenant, result.Outcome, result.Created);
        return new AdmissionDecision(result.Outcome, sessionId, result) { Entry = admitted, ShadowOf = result.ShadowOf };
    }

    private AdmissionDecision Unavailable(LicensingOptions options, SessionIdentity identity, string sessionId, LocalSessionCache.Entry? entry, long now)
    {
        switch (options.StoreUnavailable)
        {
            case StoreUnavailableBehavior.FailOpen:
                _metrics.FailOpen();
                _metrics.Admission(AdmissionOutcome.StoreUnavailable, identity.ClientKind, identity.Tenant);
                LogFailOpen(identity.Tenant);
                return new AdmissionDecision(AdmissionOutcome.StoreUnavailable, sessionId, null) { Forward = true };
            case StoreUnavailableBehavior.KeepAdmitted when entry is not null
                && _time.GetElapsedTime(Volatile.Read(ref entry.LastRequestAt), now) < options.IdleTimeout
                && now < Volatile.Read(ref entry.Deadline):
                Volatile.Write(ref entry.LastRequestAt, now);
                return new AdmissionDecision(AdmissionOutcome.Admitted, sessionId, null) { FromLocalCache = true, Entry = entry, ShadowOf = entry.ShadowOf };
            default:
                _metrics.Admission(AdmissionOutcome.StoreUnavailable, identity.ClientKind, identity.Tenant);
                return new AdmissionDecision(AdmissionOutcome.StoreUnavailable, sessionId, null);
        }
    }

    [LoggerMessage(EventId = 1000, Level = LogLevel.Debug, Message = "Admission for tenant {Tenant}: {Outcome} (new session: {Created})")]
    private partial void LogDecision(string tenant, AdmissionOutcome outcome, bool created);

    [LoggerMessage(EventId = 1001, Level = LogLevel.Debug, Message = "Store unavailable: forwarding a request of tenant {Tenant} unchecked (StoreUnavailable=FailOpen)")]
    private partial void LogFailOpen(string tenant);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Warning, Message = "The licensing store is unavailable; applying the outage policy {Policy}")]
    private partial void LogStoreUnavailable(StoreUnavailableBehavior policy, Exception exception);

    [LoggerMessage(EventId = 1200, Level = LogLevel.Debug, Message = "Shadow mode: admitted a new session of tenant {Tenant} that enforcement would have answered {WouldBe}")]
    private partial void LogShadowed(string tenant, AdmissionOutcome wouldBe);

    [LoggerMessage(EventId = 1003, Level = LogLevel.Information, Message = "The licensing store answers again; admission resumes")]
    private partial void LogStoreAvailable();
}
