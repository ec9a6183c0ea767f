using System.Collections.Concurrent;
using System.Globalization;
using Gateway.Licensing.Identity;
using Gateway.Licensing.Options;
using Gateway.Licensing.Rules;
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

    public LicenseStore(
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

    public IConnectionMultiplexer Connection => _connection;

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
        var reply = await RunAsync(identity.Tenant, LicensingScripts.Admit, "gateway",
        [
            sessionId,
            identity.User,
            identity.ClientKind.ToName(),
            identity.Device,
            (long)options.ServiceSessionLifetime.TotalMilliseconds,
            options.AtCapacity == AtCapacityBehavior.Reject ? "1" : "0",
            options.AutoActivate ? "1" : "0",
            OriginValue(origin),
            options.MaxUsersPerTenant,
            options.MaxSessionsPerUser,
            options.DefaultEnforcementFor(identity.Tenant).ToName(),
        ]).ConfigureAwait(false);

        var outcome = ParseOutcome((string?)reply[0]) ?? throw new InvalidOperationException("Admission reply without an outcome.");
        var shadowOf = ParseOutcome((string?)reply[9]);
        var ended = Ended(identity.Tenant, reply, 11);
        var lifetimeLeft = (long)reply[8];
        var registeredMs = (long)reply[10];
        if ((long)reply[1] == 1 || registeredMs > 0)
        {
            // A new session or a newly registered user is the only admission that can make the tenant
            // due sooner (a refresh or a touch only moves an expiry later): put the tenant in the due
            // index at that time, unless the index already has it sooner. Fire and forget, so the answer
            // does not wait for it; a write lost with the connection is found by the full pass.
            var due = long.MaxValue;
            if ((long)reply[1] == 1)
            {
                var started = (long)reply[7];
                due = started + (long)options.StoreIdleWindow.TotalMilliseconds;
                if (lifetimeLeft >= 0) due = Math.Min(due, started + lifetimeLeft);
            }
            if (registeredMs > 0) due = Math.Min(due, registeredMs + (long)options.UserRetention.TotalMilliseconds);
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
            SessionStartedMs = (long)reply[7],
            LifetimeLeft = lifetimeLeft < 0 ? null : TimeSpan.FromMilliseconds(lifetimeLeft),
            Outcome = outcome,
            SessionId = sessionId,
            Created = (long)reply[1] == 1,
            SeatLimit = (int)(long)reply[2],
            ActiveSessions = (int)(long)reply[3],
            RetryAfter = TimeSpan.FromMilliseconds((long)reply[4]),
            YourSessions = SplitWords((string?)reply[5]),
            PreemptedSessionIds = ended.Where(e => e.Reason == EndReason.Preempted).Select(e => e.SessionId).ToArray(),
            Expired = CountExpired(ended),
            Shared = (long)reply[6] == 1,
            ShadowOf = shadowOf,
        };
    }

    /// <summary>
    /// Reports a live session as shared (a replica saw it used from a second origin). Returns true when
    /// this call reported it, false when it was reported before or is not live.
    /// </summary>
    public async Task<bool> ReportSharedAsync(string tenant, string sessionId)
    {
        var reply = await RunAsync(tenant, LicensingScripts.ReportShared, "gateway", [sessionId]).ConfigureAwait(false);
        Ended(tenant, reply, 1);
        return (long)reply[0] == 1;
    }

    /// <summary>
    /// Hands a plan that came from configuration over to the management API (configuration no longer
    /// names the tenant). Returns true when the plan was managed by configuration until now.
    /// </summary>
    public async Task<bool> ReleaseConfiguredPlanAsync(string tenant, string actor)
    {
        var reply = await RunAsync(tenant, LicensingScripts.ReleasePlan, actor, []).ConfigureAwait(false);
        Ended(tenant, reply, 1);
        return (long)reply[0] == 1;
    }

    /// <summary>Tenant ids whose plan is managed by configuration, of those in the registry.</summary>
    public async Task<IReadOnlyList<string>> ListConfiguredTenantsAsync()
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

    private static RedisValue OriginValue(long origin) =>
        origin == 0 ? RedisValue.EmptyString : origin.ToString("x16", CultureInfo.InvariantCulture);

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
    public Task<TouchResult> TouchAsync(string tenant, IReadOnlyCollection<string> sessionIds) =>
        TouchAsync(tenant, sessionIds.Select(id => (id, 0L)).ToArray());

    /// <summary>
    /// Refreshes the sliding expiry of live sessions of one tenant in one round trip. Each session is
    /// named with the start (<see cref="AdmissionResult.SessionStartedMs"/>) the caller knows it by, or 0
    /// for any: a session that ended and started again since is reported missing, not refreshed.
    /// </summary>
    public async Task<TouchResult> TouchAsync(string tenant, IReadOnlyList<(string SessionId, long StartedMs)> sessions)
    {
        var args = new RedisValue[2 * sessions.Count];
        for (var i = 0; i < sessions.Count; i++)
        {
            args[2 * i] = sessions[i].SessionId;
            args[2 * i + 1] = sessions[i].StartedMs;
        }
        var reply = await RunAsync(tenant, LicensingScripts.Touch, "gateway", args).ConfigureAwait(false);
        var missingCount = (int)(long)reply[0];
        var missing = new string[missingCount];
        for (var m = 0; m < missingCount; m++) missing[m] = (string)reply[1 + m]!;
        var ended = Ended(tenant, reply, 1 + missingCount);
        return new TouchResult(missing, CountExpired(ended));
    }

    /// <summary>
    /// Ends one session. With <paramref name="owner"/> set, only a session of that user is ended.
    /// Returns false when there was no such session. <paramref name="durable"/>: see <see cref="SetUserActiveAsync"/>.
    /// </summary>
    public async Task<bool> EndSessionAsync(string tenant, string sessionId, string reason, string actor, string? owner = null, bool durable = false)
    {
        var (reply, acknowledged) = await RunAsync(tenant, LicensingScripts.EndSession, actor, [sessionId, reason, owner ?? ""], durable).ConfigureAwait(false);
        Ended(tenant, reply, 1);
        var found = (long)reply[0] == 1;
        if (found) EnsureDurable(acknowledged);
        return found;
    }

    /// <summary>
    /// Ends expired sessions of a tenant; loops until none is left over. Does not touch the due index:
    /// <see cref="Sessions.SessionSweeper"/> schedules the tenant from <see cref="SweepResult.NextDueMs"/>.
    /// </summary>
    public async Task<SweepResult> SweepAsync(string tenant)
    {
        var all = new List<string>();
        int idle = 0, lifetime = 0, forgotten = 0;
        long nextDue = -1;
        for (var round = 0; round < 100; round++)
        {
            var reply = await RunAsync(tenant, LicensingScripts.Sweep, "sweep",
                [SweepBatch, UsageRetentionDays, (long)_options.CurrentValue.UserRetention.TotalMilliseconds]).ConfigureAwait(false);
            forgotten += (int)(long)reply[1];
            nextDue = (long)reply[2];
            var ended = Ended(tenant, reply, 3);
            var expired = CountExpired(ended);
            idle += expired.Idle;
            lifetime += expired.Lifetime;
            all.AddRange(ended.Select(e => e.SessionId));
            if ((long)reply[0] == 0) break;
        }
        return new SweepResult(all, new ExpiredSessions(idle, lifetime))
        {
            ForgottenUsers = forgotten,
            NextDueMs = nextDue < 0 ? null : nextDue,
        };
    }

    /// <summary>The store's clock now (ms since the Unix epoch), the clock every score of the due index is on.</summary>
    public async Task<long> StoreTimeMsAsync()
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
    public async Task<bool> TryTakeLeaseAsync(RedisKey lease, TimeSpan duration, string holder)
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
    public async Task<IReadOnlyList<string>> TakeDueTenantsAsync(long nowMs, int max)
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
    public async Task ScheduleAsync(IReadOnlyCollection<(string Tenant, long DueMs)> tenants)
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

    private void ScheduleSoon(string tenant, long dueMs)
    {
        try
        {
            Db.SortedSetAdd(TenantKeys.DueIndex, [new SortedSetEntry(tenant, dueMs)], SortedSetWhen.LessThan, CommandFlags.FireAndForget);
        }
        catch (Exception ex) when (IsUnavailable(ex))
        {
            // The admission stands; the full pass puts the tenant in the index.
        }
    }

    /// <summary>
    /// Creates or changes a tenant's plan and re-establishes sessions &lt;= cap. The tenant is put in the
    /// registry first, so a plan never exists without its tenant in the registry (swept, on the gauges);
    /// when the plan script then fails, an entry without a plan is left, which sweeps and gauges skip.
    /// </summary>
    /// <param name="durable">See <see cref="SetUserActiveAsync"/>.</param>
    public async Task<PlanChangeResult> SetPlanAsync(string tenant, TenantPlan plan, bool fromConfiguration, string actor, bool durable = false)
    {
        if (_registered.TryRemove(tenant, out _)) Interlocked.Decrement(ref _registeredCount);
        await EnsureRegisteredAsync(tenant).ConfigureAwait(false);
        var args = new List<RedisValue>
        {
            plan.Model.ToString(),
            plan.SeatLimit,
            fromConfiguration ? "1" : "0",
            string.Join('\t', plan.ReservedUsers.Distinct(StringComparer.Ordinal)),
            _options.CurrentValue.MaxSessionsPerUser,
            _options.CurrentValue.DefaultEnforcementFor(tenant).ToName(),
        };
        foreach (var (field, value) in plan.OptionalFields())
        {
            args.Add(field);
            args.Add(value);
        }
        var (reply, acknowledged) = await RunAsync(tenant, LicensingScripts.SetPlan, actor, [.. args], durable).ConfigureAwait(false);
        var status = (string?)reply[0] switch
        {
            "created" => PlanChangeStatus.Created,
            "updated" => PlanChangeStatus.Updated,
            "managed_by_config" => PlanChangeStatus.ManagedByConfig,
            "seat_limit_below_active_users" => PlanChangeStatus.SeatLimitBelowActiveUsers,
            var other => throw new InvalidOperationException($"Unexpected plan status '{other}'."),
        };
        var ended = Ended(tenant, reply, 2);
        if (status is PlanChangeStatus.Created or PlanChangeStatus.Updated) EnsureDurable(acknowledged);
        return new PlanChangeResult(status, ended.Select(e => e.SessionId).ToArray(), (int)(long)reply[1]);
    }

    /// <summary>Activates or deactivates one user.</summary>
    /// <param name="durable">
    /// An admin write whose success must survive the loss of the primary: the replicas are waited for
    /// (<see cref="DurableWrites"/>), and a change they did not acknowledge throws
    /// <see cref="StoreNotDurableException"/> (after the sessions it ended were handed to the listeners).
    /// </param>
    public async Task<ActivationResult> SetUserActiveAsync(string tenant, string user, bool active, string actor, bool durable = false)
    {
        var (reply, acknowledged) = await RunAsync(tenant, LicensingScripts.SetUser, actor, [user, active ? "1" : "0", _options.CurrentValue.MaxUsersPerTenant], durable).ConfigureAwait(false);
        var ended = Ended(tenant, reply, 2);
        var status = ParseActivation((string?)reply[0]);
        var isActive = (long)reply[1] == 1;
        if (status == ActivationStatus.Created && !isActive) ScheduleNow(tenant);
        if (status is ActivationStatus.Created or ActivationStatus.Updated or ActivationStatus.Unchanged) EnsureDurable(acknowledged);
        return new ActivationResult(status, isActive, ended.Select(e => e.SessionId).ToArray());
    }

    /// <summary>
    /// Deactivates <paramref name="deactivate"/> and activates <paramref name="activate"/> in one atomic
    /// step. Returns the resulting states, or the reason nothing changed.
    /// </summary>
    public async Task<SwapResult> SwapUsersAsync(string tenant, string deactivate, string activate, string actor, bool durable = false)
    {
        var (reply, acknowledged) = await RunAsync(tenant, LicensingScripts.SwapUsers, actor, [deactivate, activate, _options.CurrentValue.MaxUsersPerTenant], durable).ConfigureAwait(false);
        var ended = Ended(tenant, reply, 4);
        var status = (string?)reply[0] switch
        {
            "ok" => ActivationStatus.Updated,
            "seat_limit_reached" => ActivationStatus.SeatLimitReached,
            "user_limit_reached" => ActivationStatus.UserLimitReached,
            "tenant_unlicensed" => ActivationStatus.TenantUnlicensed,
            var other => throw new InvalidOperationException($"Unexpected swap status '{other}'."),
        };
        if (status == ActivationStatus.Updated) EnsureDurable(acknowledged);
        return new SwapResult(status, (long)reply[1] == 1, (long)reply[2] == 1, (long)reply[3] == 1, ended.Select(e => e.SessionId).ToArray());
    }

    /// <summary>Applies a list of activation changes, all or nothing. User ids must be distinct.</summary>
    public async Task<BulkActivationResult> SetUsersActiveAsync(string tenant, IReadOnlyList<(string User, bool Active)> changes, string actor, bool durable = false)
    {
        var args = new RedisValue[1 + changes.Count * 2];
        args[0] = _options.CurrentValue.MaxUsersPerTenant;
        for (var i = 0; i < changes.Count; i++)
        {
            args[1 + 2 * i] = changes[i].User;
            args[2 + 2 * i] = changes[i].Active ? "1" : "0";
        }
        var (reply, acknowledged) = await RunAsync(tenant, LicensingScripts.SetUsers, actor, args, durable).ConfigureAwait(false);
        var status = (string?)reply[0] switch
        {
            "ok" => ActivationStatus.Updated,
            "seat_limit_reached" => ActivationStatus.SeatLimitReached,
            "user_limit_reached" => ActivationStatus.UserLimitReached,
            "tenant_unlicensed" => ActivationStatus.TenantUnlicensed,
            var other => throw new InvalidOperationException($"Unexpected bulk status '{other}'."),
        };
        var createdCount = status == ActivationStatus.Updated ? changes.Count : 0;
        var created = new bool[createdCount];
        for (var i = 0; i < createdCount; i++) created[i] = (long)reply[2 + i] == 1;
        var ended = Ended(tenant, reply, 2 + createdCount);
        for (var i = 0; i < createdCount; i++)
        {
            if (!created[i] || changes[i].Active) continue;
            ScheduleNow(tenant);
            break;
        }
        if (status == ActivationStatus.Updated) EnsureDurable(acknowledged);
        return new BulkActivationResult(status, (int)(long)reply[1], created, ended.Select(e => e.SessionId).ToArray());
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
    public async Task<TenantSeats?> GetSeatsAsync(string tenant)
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
    public async Task<long> CountTenantsAsync()
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

    private async Task<(RedisResult[] Reply, bool Durable)> RunAsync(string tenant, StoreScript script, string actor, RedisValue[] args, bool durable)
    {
        if (!durable || _durableWrites is null) return (await RunAsync(tenant, script, actor, args).ConfigureAwait(false), true);
        try
        {
            var (reply, acknowledged) = await _durableWrites.EvaluateAsync(script, TenantKeys.For(tenant), Argv(actor, args)).ConfigureAwait(false);
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

    private RedisValue[] Argv(string actor, RedisValue[] args)
    {
        var options = _options.CurrentValue;
        var argv = new RedisValue[3 + args.Length];
        argv[0] = (long)options.StoreIdleWindow.TotalMilliseconds;
        argv[1] = options.AuditCapacity;
        argv[2] = actor;
        args.CopyTo(argv, 3);
        return argv;
    }

    private async Task<RedisResult[]> RunAsync(string tenant, StoreScript script, string actor, RedisValue[] args)
    {
        try
        {
            var result = await script.EvaluateAsync(Db, TenantKeys.For(tenant), Argv(actor, args)).ConfigureAwait(false);
            return (RedisResult[])result!;
        }
        catch (Exception ex) when (IsUnavailable(ex))
        {
            throw new StoreUnavailableException("The licensing store did not answer.", ex);
        }
    }

    internal static bool IsUnavailable(Exception ex) =>
        ex is RedisConnectionException or RedisTimeoutException or TimeoutException or ObjectDisposedException
        || (ex is RedisServerException server && (server.Message.StartsWith("LOADING", StringComparison.Ordinal)
            || server.Message.StartsWith("CLUSTERDOWN", StringComparison.Ordinal)
            || server.Message.StartsWith("TRYAGAIN", StringComparison.Ordinal)));

    private List<EndedSession> Ended(string tenant, RedisResult[] reply, int start)
    {
        var ended = new List<EndedSession>((reply.Length - start) / 2);
        for (var i = start; i + 1 < reply.Length; i += 2)
        {
            ended.Add(new EndedSession(tenant, (string)reply[i]!, (string)reply[i + 1]!));
        }
        if (ended.Count > 0)
        {
            foreach (var listener in _listeners) listener.OnSessionsEnded(ended);
        }
        return ended;
    }

    private static ExpiredSessions CountExpired(List<EndedSession> ended)
    {
        int idle = 0, lifetime = 0;
        foreach (var e in ended)
        {
            if (e.Reason == EndReason.Idle) idle++;
            else if (e.Reason == EndReason.Lifetime) lifetime++;
        }
        return new ExpiredSessions(idle, lifetime);
    }

    /// <summary>An outcome as the scripts write it (<c>seats_exhausted</c>); null for '' (no outcome, e.g. no shadow note).</summary>
    private static AdmissionOutcome? ParseOutcome(string? outcome) => outcome switch
    {
        null or "" => null,
        "admitted" => AdmissionOutcome.Admitted,
        "preempted" => AdmissionOutcome.Preempted,
        "seats_exhausted" => AdmissionOutcome.SeatsExhausted,
        "user_inactive" => AdmissionOutcome.UserInactive,
        "tenant_unlicensed" => AdmissionOutcome.TenantUnlicensed,
        "user_sessions_exhausted" => AdmissionOutcome.UserSessionsExhausted,
        var other => throw new InvalidOperationException($"Unexpected admission outcome '{other}'."),
    };

    private static ActivationStatus ParseActivation(string? status) => status switch
    {
        "created" => ActivationStatus.Created,
        "updated" => ActivationStatus.Updated,
        "unchanged" => ActivationStatus.Unchanged,
        "seat_limit_reached" => ActivationStatus.SeatLimitReached,
        "user_limit_reached" => ActivationStatus.UserLimitReached,
        "tenant_unlicensed" => ActivationStatus.TenantUnlicensed,
        _ => throw new InvalidOperationException($"Unexpected activation status '{status}'."),
    };

    private static string[] SplitWords(string? value) =>
        string.IsNullOrEmpty(value) ? [] : value.Split(' ', StringSplitOptions.RemoveEmptyEntries);
}

/// <summary>Answer of a swap: the resulting states of both users.</summary>
public sealed record SwapResult(ActivationStatus Status, bool DeactivatedUserActive, bool ActivatedUserActive, bool ActivatedUserCreated, IReadOnlyList<string> EndedSessionIds);

/// <summary>Answer of a bulk activation: <see cref="Created"/> follows the order of the request.</summary>
public sealed record BulkActivationResult(ActivationStatus Status, int ActiveUsers, IReadOnlyList<bool> Created, IReadOnlyList<string> EndedSessionIds);
