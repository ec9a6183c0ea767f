-- Admits one session, atomically for the tenant (docs/licensing-rules.md).
-- ARGV[4] session id, [5] user, [6] client kind, [7] device, [8] service lifetime ms,
-- [9] '1' = AtCapacity Reject (never preempt), [10] '1' = AutoActivate, [11] origin of this use
-- (client address and User-Agent, hashed; '' = unknown), [12] most users the tenant may register,
-- [13] the gateway's default per-user session limit (0 = none; the plan's own value wins),
-- [14] the gateway's enforcement for the tenant, 'enforce' or 'shadow' (the plan's own value wins).
-- Reply: { outcome, created (0|1), seatLimit, activeSessions, retryAfterMs, yourSessions,
--          shared (0|1: this use reported the session as shared), startedMs, lifetimeLeftMs,
--          shadow, registeredMs, ended pairs... }; startedMs and lifetimeLeftMs describe the admitted
--          session (0 and -1 when refused): when it started (the same id can start again after it ended)
--          and, for a service session, how long until its deadline (-1: none), so the gateway's cache
--          never outlives it. shadow: for an admitted session that started in shadow mode over what
--          enforcement would have done, that outcome (seats_exhausted, user_sessions_exhausted,
--          user_inactive or preempted); else ''. registeredMs: when this call registered the user
--          (0: it did not).
local SID, USER, KIND, DEVICE = ARGV[4], ARGV[5], ARGV[6], ARGV[7]
local LIFETIME = tonumber(ARGV[8])
local REJECT = ARGV[9] == '1'
local AUTO_ACTIVATE = ARGV[10] == '1'
local ORIGIN = ARGV[11] or ''
local MAX_USERS = tonumber(ARGV[12])
local DEFAULT_PER_USER = ARGV[13] or '0'
local DEFAULT_ENFORCEMENT = ARGV[14] or 'enforce'

purge(64)
local model, limit, plan_enforcement, plan_per_user = plan()

local shared = 0
-- Set once the tenant is known to run in shadow mode; until then (and when enforced) no session of it
-- carries a shadow note, so the reply need not look for one.
local SHADOW = false

-- The reply's positions, in the order AdmitScript reads them.
local function answer(outcome, created, live, retry_ms, yours, started, left, shadow)
  return with_ended({ outcome, created, limit, live, retry_ms or 0, yours or '', shared, started, left, shadow, REGISTERED_AT })
end

-- The reply read back from the store: the session as it stands (started 0 and lifetime left -1 when none).
local function reply(outcome, created, retry_ms, yours)
  local started, left = 0, -1
  local rec = redis.call('HGET', K_SESSIONS, SID)
  if rec then
    local _, _, _, s = parse_session(rec)
    started = s
    local deadline = redis.call('ZSCORE', K_SVC, SID)
    if deadline then left = math.max(0, tonumber(deadline) - NOW) end
  end
  local shadow = ''
  if rec and SHADOW then shadow = redis.call('HGET', K_SHADOW, SID) or '' end
  return answer(outcome, created, redis.call('HLEN', K_SESSIONS), retry_ms, yours, started, left, shadow)
end

-- The reply on a session this script started: everything reply() would read back is known here.
local function reply_started(outcome, live, would_be)
  return answer(outcome, 1, live, 0, '', NOW, KIND == 'service' and math.max(0, LIFETIME) or -1, would_be or '')
end

-- The sharing signal: a live session used from a second origin is reported once, never refused.
local function note_origin()
  if ORIGIN == '' then return end
  local rec = redis.call('HGET', K_SESSIONS, SID)
  local u, k, d, s, first = parse_session(rec)
  if first == '' then
    redis.call('HSET', K_SESSIONS, SID, session_record(u, k, d, s, ORIGIN))
  elseif first ~= ORIGIN and mark_shared(SID, rec) then
    log_activity('session-shared', { session = SID, user = USER, clientKind = KIND, device = DEVICE })
    shared = 1
  end
end

if not model then return reply('tenant_unlicensed', 0) end

-- Shadow mode: nothing is refused or preempted for seats; what enforcement would have done is noted on
-- the session instead. Sessions noted so are how a tenant enforced again (by configuration, whose
-- change no script sees) finds that it may be above its limits: the first admission puts it back.
SHADOW = shadow_of(plan_enforcement, DEFAULT_ENFORCEMENT)
if not SHADOW and redis.call('EXISTS', K_SHADOW) == 1 then
  enforce_limits(model, limit, DEFAULT_PER_USER, 'revoked')
end

-- Re-admission of a live session refreshes it and never counts it twice. One that has expired (idle,
-- or past its lifetime) ends now and the caller gets a new session if a seat is free.
if redis.call('HEXISTS', K_SESSIONS, SID) == 1 and not expire_if_due(SID) then
  redis.call('ZADD', K_RECENCY, NOW, SID)
  note_origin()
  return reply('admitted', 0)
end

-- A first sighting registers the user, unless the tenant already holds its quota of users: then the
-- user stays unregistered and gets what an unregistered user gets under the model.
local first_seen = redis.call('ZSCORE', K_USERS, USER) == false
local registered = not first_seen
if first_seen and register(USER, MAX_USERS) then
  registered = true
  log_activity('user-registered', { user = USER })
end
local mine = user_sessions(USER)
local had_sessions = #mine > 0
local live = redis.call('HLEN', K_SESSIONS)
local total = live
-- The decision counts the sessions enforcement would have let in. In shadow mode the sessions noted as
-- started over a would-be refusal are left out (enforcement would have had none of them), and so are
-- those noted over a would-be preemption (enforcement would have ended another one for each).
local mine_count = #mine
if SHADOW then
  total = total - redis.call('HLEN', K_SHADOW)
  for _, sid in ipairs(mine) do
    if redis.call('HEXISTS', K_SHADOW, sid) == 1 then mine_count = mine_count - 1 end
  end
end

local function exhausted()
  local retry = 1000
  local oldest = redis.call('ZRANGE', K_RECENCY, 0, 0, 'WITHSCORES')
  if oldest[2] then retry = math.max(1000, tonumber(oldest[2]) + IDLE - NOW) end
  return reply('seats_exhausted', 0, retry, table.concat(mine, ' '))
end

-- The per-user limit: one user, or one client inventing a device id per request, cannot take every
-- seat. Checked before the seats, so such a user is told to end one of their own sessions.
local function at_user_limit()
  if mine_count == 0 then return false end
  local per_user = per_user_limit_of(plan_per_user, DEFAULT_PER_USER)
  return per_user > 0 and mine_count >= per_user
end

-- Ends the least recently used session that accept() takes, to make room. In shadow mode nothing
-- ends: that a session would have is noted.
local preempted, would_preempt = false, false
local function preempt(accept)
  local victim = lru_collect(accept, 1)[1]
  if not victim then return false end
  if SHADOW then
    would_preempt = true
  else
    end_session(victim, 'preempted')
    preempted = true
  end
  return true
end

-- The decision on a new session: nil to admit it, else the refusal. USER_ACTIVE: the user is known to
-- be active (so not in K_UNUSED) once it returns.
local USER_ACTIVE = false
local function refusal()
  if model == 'RegisteredUsers' then
    if redis.call('SISMEMBER', K_ACTIVE, USER) == 0 then
      -- Only a first sighting auto-activates: a user an admin deactivated stays inactive.
      if first_seen and registered and AUTO_ACTIVATE and redis.call('SCARD', K_ACTIVE) < limit then
        activate(USER)
        audit('user-activated', { user = USER, reason = 'auto-activate' })
      else
        return 'user_inactive'
      end
    end
    USER_ACTIVE = true
    if at_user_limit() then return 'user_sessions_exhausted' end
    local cap = cap_of(model, limit)
    if mine_count == 0 then
      -- The per-user guarantee: at cap, some user must hold a borrowed session; the oldest one ends.
      if total >= cap and (REJECT or not preempt(is_borrowed)) then return 'seats_exhausted' end
    elseif total >= cap then
      return 'seats_exhausted'
    end
  else
    if at_user_limit() then return 'user_sessions_exhausted' end
    -- One read of the reserved users answers both whether this user is one and who waits.
    local reserved_users = redis.call('SMEMBERS', K_RESERVED)
    local reserved = false
    for _, r in ipairs(reserved_users) do
      if r == USER then reserved = true break end
    end
    if reserved and mine_count == 0 then
      if total >= limit and (REJECT or not preempt(is_not_reserved_own)) then return 'seats_exhausted' end
    else
      -- Seats held back for reserved users who have no session yet.
      local waiting = 0
      for _, r in ipairs(reserved_users) do
        if r ~= USER and redis.call('HEXISTS', K_USESS, r) == 0 then waiting = waiting + 1 end
      end
      if total + waiting >= limit then return 'seats_exhausted' end
    end
  end
  return nil
end

local refused = refusal()
local would_be = nil
if refused then
  if not SHADOW then
    -- A refused sighting is the user's last sighting; an admitted one is its session's recency.
    if registered then redis.call('HSET', K_SEEN, USER, NOW) end
    if refused == 'seats_exhausted' then return exhausted() end
    if refused == 'user_sessions_exhausted' then return reply(refused, 0, 0, table.concat(mine, ' ')) end
    return reply(refused, 0)
  end
  would_be = refused
elseif would_preempt then
  would_be = 'preempted'
end

redis.call('HSET', K_SESSIONS, SID, session_record(USER, KIND, DEVICE, NOW, ORIGIN))
redis.call('ZADD', K_RECENCY, NOW, SID)
if KIND == 'service' then redis.call('ZADD', K_SVC, NOW + LIFETIME, SID) end
mine[#mine + 1] = SID
-- A user who already holds a session is in neither K_UNUSED nor K_SEEN, and a user first seen by this
-- call was never in K_SEEN: those reads are skipped.
if not USER_ACTIVE and not had_sessions then park_if_unused(USER) end
set_user_sessions(USER, mine)
if not had_sessions and not first_seen then redis.call('HDEL', K_SEEN, USER) end
log_activity('session-started', { session = SID, user = USER, clientKind = KIND, device = DEVICE })
if would_be then
  -- Noted once, when the session starts; its later requests are re-admissions and only read the note.
  -- The audit reason is the refusal's problem code (seats-exhausted), or preempted.
  redis.call('HSET', K_SHADOW, SID, would_be)
  log_activity(would_be == 'preempted' and 'shadow-preemption' or 'shadow-refusal',
    { session = SID, user = USER, clientKind = KIND, device = DEVICE, reason = (string.gsub(would_be, '_', '-')) })
end
if not preempted then live = live + 1 end
record_usage(live)
return reply_started(preempted and 'preempted' or 'admitted', live, would_be)
