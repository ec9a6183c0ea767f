using System.Collections.Concurrent;
using Gateway.Licensing.Identity;
using Gateway.Licensing.Options;
using Gateway.Licensing.Results;
using Gateway.Licensing.Rules;
using Gateway.Licensing.Scripts;
using Gateway.Licensing.Sessions;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Gateway.Licensing.Store;

/// <summary>
/// The licensing store: every decision that reads and writes is one Lua script run atomically for
/// the tenant, timed by the store's own clock. Works the same on Redis, Redis Cluster and the
/// embedded store.
/// </summary>
public sealed class LicenseStore
{
    /// <summary>How many days of the usage ledger are kept: 400, so a year's true-up always finds its days.</summary>
    public const int UsageRetentionDays = 400;

    private const int SweepBatch = 500;

    // Tenants this process has seen in the registry (bounded): admission re-registers a tenant the
    // registry lacks, once per tenant and process.
    private const int MaxRegisteredTenants = 100_000;

    private readonly IConnectionMultiplexer _connection;
    private readonly IOptionsMonitor<LicensingOptions> _options;
    private readonly ISessionEndedListener[] _listeners;
    private readonly DurableWrites? _durableWrites;
    private readonly ConcurrentDictionary<string, byte> _registered = new(StringComparer.Ordinal);
    private int _registeredCount;

    /// <summary>
    /// How long a due-index write waits for others to join it. A burst of admissions (a new session
    /// each) then costs the store one command per interval, not one per admission.
    /// </summary>
    internal static readonly TimeSpan DueWriteDelay = TimeSpan.FromMilliseconds(200);

    /// <summary>Due times waiting to be written: tenant → the soonest one asked for.</summary>
    private readonly ConcurrentDictionary<string, long> _pendingDue = new(StringComparer.Ordinal);
    private int _dueWriteScheduled;

    internal LicenseStore(
        IConnectionMultiplexer connection,
        IOptionsMonitor<LicensingOptions> options,
        IEnumerable<ISessionEndedListener> listeners,
        DurableWrites? durableWrites = null)
    {
        _connection = connection;
        _options = options;
        _listeners = listeners.ToArray();
        _durableWrites = durableWrites;
    }

    internal IConnectionMultiplexer Connection => _connection;

    private IDatabase Db => _connection.GetDatabase();

    /// <summary>Admits (or refreshes) the session of <paramref name="identity"/>.</summary>
    /// <param name="identity">The session's identity.</param>
    /// <param name="sessionId">Its session id, when the caller has it already.</param>
    /// <param name="origin">
    /// Where this use comes from (a hash of client address and User-Agent; 0 = unknown): a live session
    /// used from a second origin is reported as shared, once.
    /// </param>
    public async Task<AdmissionResult> AdmitAsync(SessionIdentity identity, string? sessionId = null, long origin = 0)
    {
        var options = _options.CurrentValue;
        sessionId ??= identity.ComputeSessionId();
        var call = AdmitScript.Call(identity.Tenant, ScriptContext.For(options, "gateway"), new AdmitScript.Arguments(
            sessionId,
            identity.User,
            identity.ClientKind,
            identity.Device,
            (long)options.ServiceSessionLifetime.TotalMilliseconds,
            RejectAtCapacity: options.AtCapacity == AtCapacityBehavior.Reject,
            options.AutoActivate,
            origin,
            options.MaxUsersPerTenant,
            options.MaxSessionsPerUser,
            options.DefaultEnforcementFor(identity.Tenant)));
        var reply = AdmitScript.Parse(identity.Tenant, await RunAsync(call).ConfigureAwait(false));
        Notify(reply.Ended);

        var outcome = reply.Outcome;
        if (reply.Created || reply.RegisteredMs > 0)
        {
            // A new session or a newly registered user is the only admission that can make the tenant
            // due sooner (a refresh or a touch only moves an expiry later): put the tenant in the due
            // index at that time, unless the index already has it sooner. Fire and forget, so the answer
            // does not wait for it; a write lost with the connection is found by the full pass.
            var due = long.MaxValue;
            if (reply.Created)
            {
                due = reply.StartedMs + (long)options.StoreIdleWindow.TotalMilliseconds;
                if (reply.LifetimeLeftMs is { } left) due = Math.Min(due, reply.StartedMs + left);
            }
            if (reply.RegisteredMs > 0) due = Math.Min(due, reply.RegisteredMs + (long)options.UserRetention.TotalMilliseconds);
            ScheduleSoon(identity.Tenant, due);
        }
        if (outcome != AdmissionOutcome.TenantUnlicensed && !_registered.ContainsKey(identity.Tenant))
        {
            // A tenant with a plan that the registry lacks (its registry write was lost) is put back
            // by its traffic. The decision stands whether or not this write gets through.
            try { await EnsureRegisteredAsync(identity.Tenant).ConfigureAwait(false); }
            catch (StoreUnavailableException) { }
        }
        return new AdmissionResult
        {
            SessionStartedMs = reply.StartedMs,
            LifetimeLeft = reply.LifetimeLeftMs is { } lifetimeLeft ? TimeSpan.FromMilliseconds(lifetimeLeft) : null,
            Outcome = outcome,
            SessionId = sessionId,
            Created = reply.Created,
            SeatLimit = reply.SeatLimit,
            ActiveSessions = reply.ActiveSessions,
            RetryAfter = TimeSpan.FromMilliseconds(reply.RetryAfterMs),
            YourSessions = reply.YourSessions,
            PreemptedSessionIds = reply.Ended.Where(e => e.Reason == EndReason.Preempted).Select(e => e.SessionId).ToArray(),
            Expired = EndedPairs.CountExpired(reply.Ended),
            Shared = reply.Shared,
            ShadowOf = reply.ShadowOf,
        };
    }

    /// <summary>
    /// Reports a live session as shared (a replica saw it used from a second origin). Returns true when
    /// this call reported it, false when it was reported before or is not live.
    /// </summary>
    internal async Task<bool> ReportSharedAsync(string tenant, string sessionId)
    {
        var call = ReportSharedScript.Call(tenant, ScriptContext.For(_options.CurrentValue, "gateway"), sessionId);
        var reply = ReportSharedScript.Parse(tenant, await RunAsync(call).ConfigureAwait(false));
        Notify(reply.Ended);
        return reply.Reported;
    }

    /// <summary>
    /// Hands a plan that came from configuration over to the management API (configuration no longer
    /// names the tenant). Returns true when the plan was managed by configuration until now.
    /// </summary>
    internal async Task<bool> ReleaseConfiguredPlanAsync(string tenant, string actor)
    {
        var call = ReleasePlanScript.Call(tenant, ScriptContext.For(_options.CurrentValue, actor));
        var reply = ReleasePlanScript.Parse(tenant, await RunAsync(call).ConfigureAwait(false));
        Notify(reply.Ended);
        return reply.Released;
    }

    /// <summary>Tenant ids whose plan is managed by configuration, of those in the registry.</summary>
    internal async Task<IReadOnlyList<string>> ListConfiguredTenantsAsync()
    {
        var tenants = await ListTenantsAsync().ConfigureAwait(false);
        if (tenants.Count == 0) return [];
        try
        {
            var db = Db;
            var batch = db.CreateBatch();
            var reads = tenants.Select(t => batch.HashGetAsync(TenantKeys.For(t)[TenantKeys.Plan], "managed")).ToArray();
            batch.Execute();
            var managed = await Task.WhenAll(reads).ConfigureAwait(false);
            return tenants.Where((_, i) => managed[i] == "1").ToArray();
        }
        catch (Exception ex) when (IsUnavailable(ex))
        {
            throw new StoreUnavailableException("The licensing store did not answer.", ex);
        }
    }

    /// <summary>
    /// Puts the tenant in the registry (the one key outside the tenant's hash slot, so no script can
    /// write it) unless this process saw it there already. Idempotent.
    /// </summary>
    private async Task EnsureRegisteredAsync(string tenant)
    {
        if (_registered.ContainsKey(tenant)) return;
        try
        {
            await Db.SetAddAsync(TenantKeys.Registry, tenant).ConfigureAwait(false);
        }
        catch (Exception ex) when (IsUnavailable(ex))
        {
            throw new StoreUnavailableException("The licensing store did not answer.", ex);
        }
        MarkRegistered(tenant);
    }

    private void MarkRegistered(string tenant)
    {
        if (Volatile.Read(ref _registeredCount) >= MaxRegisteredTenants) return;
        if (_registered.TryAdd(tenant, 0)) Interlocked.Increment(ref _registeredCount);
    }

    /// <summary>Refreshes the sliding expiry of live sessions of one tenant in one round trip.</summary>
    internal Task<TouchResult> TouchAsync(string tenant, IReadOnlyCollection<string> sessionIds) =>
        TouchAsync(tenant, sessionIds.Select(id => (id, 0L)).ToArray());

    /// <summary>
    /// Refreshes the sliding expiry of live sessions of one tenant in one round trip. Each session is
    /// named with the start (<see cref="AdmissionResult.SessionStartedMs"/>) the caller knows it by, or 0
    /// for any: a session that ended and started again since is reported missing, not refreshed.
    /// </summary>
    internal async Task<TouchResult> TouchAsync(string tenant, IReadOnlyList<(string SessionId, long StartedMs)> sessions)
    {
        var call = TouchScript.Call(tenant, ScriptContext.For(_options.CurrentValue, "gateway"), sessions);
        var reply = TouchScript.Parse(tenant, await RunAsync(call).ConfigureAwait(false));
        Notify(reply.Ended);
        return new TouchResult(reply.Missing, EndedPairs.CountExpired(reply.Ended));
    }

    /// <summary>
    /// Ends one session. With <paramref name="owner"/> set, only a session of that user is ended.
    /// Returns false when there was no such session. <paramref name="durable"/>: see <see cref="SetUserActiveAsync"/>.
    /// </summary>
    public async Task<bool> EndSessionAsync(string tenant, string sessionId, string reason, string actor, string? owner = null, bool durable = false)
    {
        var call = EndSessionScript.Call(tenant, ScriptContext.For(_options.CurrentValue, actor), new EndSessionScript.Arguments(sessionId, reason, owner));
        var (result, acknowledged) = await RunAsync(call, durable).ConfigureAwait(false);
        var reply = EndSessionScript.Parse(tenant, result);
        Notify(reply.Ended);
        if (reply.Found) EnsureDurable(acknowledged);
        return reply.Found;
    }

    /// <summary>
    /// Ends expired sessions of a tenant; loops until none is left over. Does not touch the due index:
    /// <see cref="Sessions.SessionSweeper"/> schedules the tenant from <see cref="SweepResult.NextDueMs"/>.
    /// </summary>
    internal async Task<SweepResult> SweepAsync(string tenant)
    {
        var all = new List<string>();
        int idle = 0, lifetime = 0, forgotten = 0;
        long? nextDue = null;
        for (var round = 0; round < 100; round++)
        {
            var options = _options.CurrentValue;
            var call = SweepScript.Call(tenant, ScriptContext.For(options, "sweep"),
                new SweepScript.Arguments(SweepBatch, UsageRetentionDays, (long)options.UserRetention.TotalMilliseconds));
            var reply = SweepScript.Parse(tenant, await RunAsync(call).ConfigureAwait(false));
            Notify(reply.Ended);
            forgotten += reply.ForgottenUsers;
            nextDue = reply.NextDueMs;
            var expired = EndedPairs.CountExpired(reply.Ended);
            idle += expired.Idle;
            lifetime += expired.Lifetime;
            all.AddRange(reply.Ended.Select(e => e.SessionId));
            if (!reply.MoreToDo) break;
        }
        return new SweepResult(all, new ExpiredSessions(idle, lifetime))
        {
            ForgottenUsers = forgotten,
            NextDueMs = nextDue,
        };
    }

    /// <summary>The store's clock now (ms since the Unix epoch), the clock every score of the due index is on.</summary>
    internal async Task<long> StoreTimeMsAsync()
    {
        try
        {
            var time = (RedisResult[])(await Db.ExecuteAsync("TIME").ConfigureAwait(false))!;
            return (long)time[0] * 1000 + (long)time[1] / 1000;
        }
        catch (Exception ex) when (IsUnavailable(ex))
        {
            throw new StoreUnavailableException("The licensing store did not answer.", ex);
        }
    }

    /// <summary>
    /// Takes a lease for <paramref name="duration"/> when nobody holds it: true when this caller got it.
    /// It is never released, only left to expire, so holders take turns at most once per duration.
    /// </summary>
    internal async Task<bool> TryTakeLeaseAsync(RedisKey lease, TimeSpan duration, string holder)
    {
        try
        {
            return await Db.StringSetAsync(lease, holder, duration, When.NotExists).ConfigureAwait(false);
        }
        catch (Exception ex) when (IsUnavailable(ex))
        {
            throw new StoreUnavailableException("The licensing store did not answer.", ex);
        }
    }

    /// <summary>
    /// Takes up to <paramref name="max"/> tenants due at <paramref name="nowMs"/> out of the due index,
    /// earliest first. The caller sweeps each and puts it back with <see cref="ScheduleAsync"/>: a sweep
    /// script that starts after the removal sees every session admitted before it, and a session admitted
    /// after it puts the tenant back itself, so nothing due is lost between the two.
    /// </summary>
    internal async Task<IReadOnlyList<string>> TakeDueTenantsAsync(long nowMs, int max)
    {
        try
        {
            var db = Db;
            var due = await db.SortedSetRangeByScoreAsync(TenantKeys.DueIndex, double.NegativeInfinity, nowMs, take: max).ConfigureAwait(false);
            if (due.Length == 0) return [];
            await db.SortedSetRemoveAsync(TenantKeys.DueIndex, due).ConfigureAwait(false);
            return due.Select(t => (string)t!).ToArray();
        }
        catch (Exception ex) when (IsUnavailable(ex))
        {
            throw new StoreUnavailableException("The licensing store did not answer.", ex);
        }
    }

    /// <summary>
    /// Puts tenants in the due index at the given store times, keeping an earlier time already there
    /// (ZADD LT): a score only ever moves later through <see cref="TakeDueTenantsAsync"/> and a sweep.
    /// </summary>
    internal async Task ScheduleAsync(IReadOnlyCollection<(string Tenant, long DueMs)> tenants)
    {
        if (tenants.Count == 0) return;
        try
        {
            var entries = tenants.Select(t => new SortedSetEntry(t.Tenant, t.DueMs)).ToArray();
            await Db.SortedSetAddAsync(TenantKeys.DueIndex, entries, SortedSetWhen.LessThan).ConfigureAwait(false);
        }
        catch (Exception ex) when (IsUnavailable(ex))
        {
            throw new StoreUnavailableException("The licensing store did not answer.", ex);
        }
    }

    // An admin registered a user who was never active: that user's retention starts now. The next due
    // sweep files the tenant at the exact time (admin changes are rare; the admin scripts do not reply
    // with the store's time).
    private void ScheduleNow(string tenant) => ScheduleSoon(tenant, 0);

    /// <summary>
    /// Puts <paramref name="tenant"/> in the due index at <paramref name="dueMs"/> unless it is there
    /// sooner, within <see cref="DueWriteDelay"/>, together with every other tenant asked for meanwhile.
    /// A due time is always far later than that delay (an idle timeout, a lifetime, a retention), and a
    /// write lost with the process or the connection is made good by the sweeper's full pass.
    /// </summary>
    private void ScheduleSoon(string tenant, long dueMs)
    {
        _pendingDue.AddOrUpdate(tenant, static (_, due) => due, static (_, pending, due) => Math.Min(pending, due), dueMs);
        if (Interlocked.Exchange(ref _dueWriteScheduled, 1) == 0) _ = WriteDueSoonAsync();
    }

    private async Task WriteDueSoonAsync()
    {
        await Task.Delay(DueWriteDelay).ConfigureAwait(false);
        // Reset before taking the entries: one added after this line schedules the next write, so none is left behind.
        Volatile.Write(ref _dueWriteScheduled, 0);
        var entries = new List<SortedSetEntry>(_pendingDue.Count);
        foreach (var tenant in _pendingDue.Keys)
        {
            if (_pendingDue.TryRemove(tenant, out var due)) entries.Add(new SortedSetEntry(tenant, due));
        }
        if (entries.Count == 0) return;
        try
        {
            Db.SortedSetAdd(TenantKeys.DueIndex, entries.ToArray(), SortedSetWhen.LessThan, CommandFlags.FireAndForget);
        }
        catch (Exception ex) when (IsUnavailable(ex))
        {
            // The admissions stand; the full pass puts the tenants in the index.
        }
    }

    /// <summary>
    /// Creates or changes a tenant's plan and re-establishes sessions &lt;= cap. The tenant is put in the
    /// registry first, so a plan never exists without its tenant in the registry (swept, on the gauges);
    /// when the plan script then fails, an entry without a plan is left, which sweeps and gauges skip.
    /// </summary>
    /// <param name="tenant">The tenant id.</param>
    /// <param name="plan">The new plan.</param>
    /// <param name="fromConfiguration">
    /// True for a plan from <c>Licensing:Tenants</c>, applied at start: it may lower the limit under the
    /// active users, and marks the plan as managed by configuration.
    /// </param>
    /// <param name="actor">Who changes it, for the audit trail.</param>
    /// <param name="durable">See <see cref="SetUserActiveAsync"/>.</param>
    public async Task<PlanChangeResult> SetPlanAsync(string tenant, TenantPlan plan, bool fromConfiguration, string actor, bool durable = false)
    {
        if (_registered.TryRemove(tenant, out _)) Interlocked.Decrement(ref _registeredCount);
        await EnsureRegisteredAsync(tenant).ConfigureAwait(false);
        var options = _options.CurrentValue;
        var call = SetPlanScript.Call(tenant, ScriptContext.For(options, actor),
            new SetPlanScript.Arguments(plan, fromConfiguration, options.MaxSessionsPerUser, options.DefaultEnforcementFor(tenant)));
        var (result, acknowledged) = await RunAsync(call, durable).ConfigureAwait(false);
        var reply = SetPlanScript.Parse(tenant, result);
        Notify(reply.Ended);
        if (reply.Status is PlanChangeStatus.Created or PlanChangeStatus.Updated) EnsureDurable(acknowledged);
        return new PlanChangeResult(reply.Status, EndedPairs.Ids(reply.Ended), reply.ActiveUsers);
    }

    /// <summary>Activates or deactivates one user.</summary>
    /// <param name="tenant">The tenant id.</param>
    /// <param name="user">The user id; an unknown user is registered.</param>
    /// <param name="active">True to activate, false to deactivate (which ends the user's sessions).</param>
    /// <param name="actor">Who changes it, for the audit trail.</param>
    /// <param name="durable">
    /// An admin write whose success must survive the loss of the primary: the replicas are waited for
    /// (<see cref="DurableWrites"/>), and a change they did not acknowledge throws
    /// <see cref="StoreNotDurableException"/> (after the sessions it ended were handed to the listeners).
    /// </param>
    public async Task<ActivationResult> SetUserActiveAsync(string tenant, string user, bool active, string actor, bool durable = false)
    {
        var call = SetUserScript.Call(tenant, ScriptContext.For(_options.CurrentValue, actor),
            new SetUserScript.Arguments(user, active, _options.CurrentValue.MaxUsersPerTenant));
        var (result, acknowledged) = await RunAsync(call, durable).ConfigureAwait(false);
        var reply = SetUserScript.Parse(tenant, result);
        Notify(reply.Ended);
        if (reply.Status == ActivationStatus.Created && !reply.Active) ScheduleNow(tenant);
        if (reply.Status is ActivationStatus.Created or ActivationStatus.Updated or ActivationStatus.Unchanged) EnsureDurable(acknowledged);
        return new ActivationResult(reply.Status, reply.Active, EndedPairs.Ids(reply.Ended));
    }

    /// <summary>
    /// Deactivates <paramref name="deactivate"/> and activates <paramref name="activate"/> in one atomic
    /// step. Returns the resulting states, or the reason nothing changed.
    /// </summary>
    public async Task<SwapResult> SwapUsersAsync(string tenant, string deactivate, string activate, string actor, bool durable = false)
    {
        var call = SwapUsersScript.Call(tenant, ScriptContext.For(_options.CurrentValue, actor),
            new SwapUsersScript.Arguments(deactivate, activate, _options.CurrentValue.MaxUsersPerTenant));
        var (result, acknowledged) = await RunAsync(call, durable).ConfigureAwait(false);
        var reply = SwapUsersScript.Parse(tenant, result);
        Notify(reply.Ended);
        if (reply.Status == ActivationStatus.Updated) EnsureDurable(acknowledged);
        return new SwapResult(reply.Status, reply.DeactivatedActive, reply.ActivatedActive, reply.ActivatedCreated, EndedPairs.Ids(reply.Ended));
    }

    /// <summary>Applies a list of activation changes, all or nothing. User ids must be distinct.</summary>
    public async Task<BulkActivationResult> SetUsersActiveAsync(string tenant, IReadOnlyList<(string User, bool Active)> changes, string actor, bool durable = false)
    {
        var call = SetUsersScript.Call(tenant, ScriptContext.For(_options.CurrentValue, actor),
            new SetUsersScript.Arguments(_options.CurrentValue.MaxUsersPerTenant, changes));
        var (result, acknowledged) = await RunAsync(call, durable).ConfigureAwait(false);
        var reply = SetUsersScript.Parse(tenant, result, changes.Count);
        Notify(reply.Ended);
        for (var i = 0; i < reply.Created.Length; i++)
        {
            if (!reply.Created[i] || changes[i].Active) continue;
            ScheduleNow(tenant);
            break;
        }
        if (reply.Status == ActivationStatus.Updated) EnsureDurable(acknowledged);
        return new BulkActivationResult(reply.Status, reply.ActiveUsers, reply.Created, EndedPairs.Ids(reply.Ended));
    }

    /// <summary>The tenant's plan and live counts, or null when it has no plan.</summary>
    public async Task<TenantSnapshot?> GetTenantAsync(string tenant)
    {
        var keys = TenantKeys.For(tenant);
        var db = Db;
        try
        {
            var batch = db.CreateBatch();
            var planTask = batch.HashGetAsync(keys[TenantKeys.Plan], ["model", "seatLimit", "managed", "maxSessionsPerUser", "enforcement"]);
            var activeTask = batch.SetLengthAsync(keys[TenantKeys.Active]);
            var sessionsTask = batch.HashLengthAsync(keys[TenantKeys.Sessions]);
            var reservedTask = batch.SetMembersAsync(keys[TenantKeys.Reserved]);
            batch.Execute();
            var plan = await planTask.ConfigureAwait(false);
            if (plan[0].IsNull) return null;
            var reserved = (await reservedTask.ConfigureAwait(false)).Select(v => (string)v!).Order(StringComparer.Ordinal).ToArray();
            return new TenantSnapshot(
                tenant,
                Enum.Parse<LicenseModel>((string)plan[0]!),
                (int)plan[1],
                (int)await activeTask.ConfigureAwait(false),
                (int)await sessionsTask.ConfigureAwait(false),
                reserved,
                plan[2] == "1")
            {
                MaxSessionsPerUser = plan[3].IsNull ? null : (int)plan[3],
                Enforcement = EnforcementModeNames.TryParse((string?)plan[4], out var mode) ? mode : null,
            };
        }
        catch (Exception ex) when (IsUnavailable(ex))
        {
            throw new StoreUnavailableException("The licensing store did not answer.", ex);
        }
    }

    /// <summary>
    /// What the seat gauges show of a tenant, in one pipelined round trip of three O(1) reads; null when
    /// it has no plan.
    /// </summary>
    internal async Task<TenantSeats?> GetSeatsAsync(string tenant)
    {
        var keys = TenantKeys.For(tenant);
        try
        {
            var batch = Db.CreateBatch();
            var limitTask = batch.HashGetAsync(keys[TenantKeys.Plan], "seatLimit");
            var activeTask = batch.SetLengthAsync(keys[TenantKeys.Active]);
            var sessionsTask = batch.HashLengthAsync(keys[TenantKeys.Sessions]);
            batch.Execute();
            var limit = await limitTask.ConfigureAwait(false);
            var active = await activeTask.ConfigureAwait(false);
            var sessions = await sessionsTask.ConfigureAwait(false);
            return limit.IsNull ? null : new TenantSeats(tenant, (int)limit, (int)active, (int)sessions);
        }
        catch (Exception ex) when (IsUnavailable(ex))
        {
            throw new StoreUnavailableException("The licensing store did not answer.", ex);
        }
    }

    /// <summary>How many tenants the registry holds (O(1), unlike listing them).</summary>
    internal async Task<long> CountTenantsAsync()
    {
        try
        {
            return await Db.SetLengthAsync(TenantKeys.Registry).ConfigureAwait(false);
        }
        catch (Exception ex) when (IsUnavailable(ex))
        {
            throw new StoreUnavailableException("The licensing store did not answer.", ex);
        }
    }

    /// <summary>
    /// Live sessions across every tenant in the registry: one pipelined round trip of an O(1) read per
    /// tenant (sessions past their idle window that the sweep has not ended yet are included).
    /// </summary>
    public async Task<long> CountLiveSessionsAsync()
    {
        try
        {
            var tenants = await Db.SetMembersAsync(TenantKeys.Registry).ConfigureAwait(false);
            if (tenants.Length == 0) return 0;
            var batch = Db.CreateBatch();
            var counts = tenants.Select(t => batch.HashLengthAsync(TenantKeys.For((string)t!)[TenantKeys.Sessions])).ToArray();
            batch.Execute();
            var total = 0L;
            foreach (var count in counts) total += await count.ConfigureAwait(false);
            return total;
        }
        catch (Exception ex) when (IsUnavailable(ex))
        {
            throw new StoreUnavailableException("The licensing store did not answer.", ex);
        }
    }

    /// <summary>Whether <paramref name="tenant"/>'s store holds the session <paramref name="sessionId"/> (live, or expired and not yet swept).</summary>
    public async Task<bool> SessionExistsAsync(string tenant, string sessionId)
    {
        try
        {
            return await Db.HashExistsAsync(TenantKeys.For(tenant)[TenantKeys.Sessions], sessionId).ConfigureAwait(false);
        }
        catch (Exception ex) when (IsUnavailable(ex))
        {
            throw new StoreUnavailableException("The licensing store did not answer.", ex);
        }
    }

    /// <summary>Tenant ids in the registry (every tenant that has had a plan).</summary>
    public async Task<IReadOnlyList<string>> ListTenantsAsync()
    {
        try
        {
            var members = await Db.SetMembersAsync(TenantKeys.Registry).ConfigureAwait(false);
            return members.Select(m => (string)m!).Order(StringComparer.Ordinal).ToArray();
        }
        catch (Exception ex) when (IsUnavailable(ex))
        {
            throw new StoreUnavailableException("The licensing store did not answer.", ex);
        }
    }

    /// <summary>Whether the store answers a PING now.</summary>
    public async Task<bool> PingAsync()
    {
        try
        {
            await Db.PingAsync().ConfigureAwait(false);
            return true;
        }
        catch (Exception ex) when (IsUnavailable(ex))
        {
            return false;
        }
    }

    private async Task<(RedisResult[] Reply, bool Durable)> RunAsync(ScriptCall call, bool durable)
    {
        if (!durable || _durableWrites is null) return (await RunAsync(call).ConfigureAwait(false), true);
        try
        {
            var (reply, acknowledged) = await _durableWrites.EvaluateAsync(call).ConfigureAwait(false);
            return ((RedisResult[])reply!, acknowledged);
        }
        catch (Exception ex) when (IsUnavailable(ex))
        {
            throw new StoreUnavailableException("The licensing store did not answer.", ex);
        }
    }

    private static void EnsureDurable(bool acknowledged)
    {
        if (!acknowledged) throw new StoreNotDurableException("Too few replicas of the licensing store acknowledged the write in time.");
    }

    private async Task<RedisResult[]> RunAsync(ScriptCall call)
    {
        try
        {
            var result = await call.Script.EvaluateAsync(Db, call.Keys, call.Argv).ConfigureAwait(false);
            return (RedisResult[])result!;
        }
        catch (Exception ex) when (IsUnavailable(ex))
        {
            throw new StoreUnavailableException("The licensing store did not answer.", ex);
        }
    }

    /// <summary>
    /// True when <paramref name="ex"/> says the store could not be asked or could not answer now (no
    /// connection, a timeout, a store still loading its data or a cluster without a slot owner), as opposed
    /// to a fault of the request itself.
    /// </summary>
    /// <param name="ex">An exception thrown by a store call.</param>
    public static bool IsUnavailable(Exception ex) =>
        ex is RedisConnectionException or RedisTimeoutException or TimeoutException or ObjectDisposedException
        || (ex is RedisServerException server && (server.Message.StartsWith("LOADING", StringComparison.Ordinal)
            || server.Message.StartsWith("CLUSTERDOWN", StringComparison.Ordinal)
            || server.Message.StartsWith("TRYAGAIN", StringComparison.Ordinal)));

    /// <summary>Hands the sessions a script ended to the listeners, before the operation returns.</summary>
    private void Notify(List<EndedSession> ended)
    {
        if (ended.Count == 0) return;
        foreach (var listener in _listeners) listener.OnSessionsEnded(ended);
    }
}
