-- Admits one session, atomically for the tenant (docs/licensing-rules.md).
-- ARGV[4] session id, [5] user, [6] client kind, [7] device, [8] service lifetime ms,
-- [9] '1' = AtCapacity Reject (never preempt), [10] '1' = AutoActivate, [11] origin of this use
-- (client address and User-Agent, hashed; '' = unknown), [12] most users the tenant may register,
-- [13] the gateway's default per-user session limit (0 = none; the plan's own value wins).
-- Reply: { outcome, created (0|1), seatLimit, activeSessions, retryAfterMs, yourSessions,
--          shared (0|1: this use reported the session as shared), startedMs, lifetimeLeftMs,
--          registeredMs, ended pairs... }; startedMs and lifetimeLeftMs describe the admitted session
--          (0 and -1 when refused): when it started (the same id can start again after it ended) and,
--          for a service session, how long until its deadline (-1: none), so the gateway's cache never
--          outlives it. registeredMs: when this call registered the user (0: it did not).
local SID, USER, KIND, DEVICE = ARGV[4], ARGV[5], ARGV[6], ARGV[7]
local LIFETIME = tonumber(ARGV[8])
local REJECT = ARGV[9] == '1'
local AUTO_ACTIVATE = ARGV[10] == '1'
local ORIGIN = ARGV[11] or ''
local MAX_USERS = tonumber(ARGV[12])
local DEFAULT_PER_USER = ARGV[13] or '0'

purge(64)
local model, limit = plan()

local shared = 0
local function reply(outcome, created, retry_ms, yours)
  local started, left = 0, -1
  local rec = redis.call('HGET', K_SESSIONS, SID)
  if rec then
    local _, _, _, s = parse_session(rec)
    started = s
    local deadline = redis.call('ZSCORE', K_SVC, SID)
    if deadline then left = math.max(0, tonumber(deadline) - NOW) end
  end
  return with_ended({ outcome, created, limit, redis.call('HLEN', K_SESSIONS), retry_ms or 0, yours or '', shared, started, left, REGISTERED_AT })
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

-- Re-admission of a live session refreshes it and never counts it twice. One that has expired (idle,
-- or past its lifetime) ends now and the caller gets a new session if a seat is free.
if redis.call('HEXISTS', K_SESSIONS, SID) == 1 and not expire_if_due(SID) then
  redis.call('ZADD', K_RECENCY, NOW, SID)
  redis.call('HSET', K_SEEN, USER, NOW)
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
if registered then redis.call('HSET', K_SEEN, USER, NOW) end

local mine = user_sessions(USER)
local total = redis.call('HLEN', K_SESSIONS)

local function exhausted()
  local retry = 1000
  local oldest = redis.call('ZRANGE', K_RECENCY, 0, 0, 'WITHSCORES')
  if oldest[2] then retry = math.max(1000, tonumber(oldest[2]) + IDLE - NOW) end
  return reply('seats_exhausted', 0, retry, table.concat(mine, ' '))
end

-- The per-user limit: one user, or one client inventing a device id per request, cannot take every
-- seat. Checked before the seats, so such a user is told to end one of their own sessions.
local function at_user_limit()
  if #mine == 0 then return false end
  local per_user = per_user_limit(DEFAULT_PER_USER)
  return per_user > 0 and #mine >= per_user
end
local function user_exhausted()
  return reply('user_sessions_exhausted', 0, 0, table.concat(mine, ' '))
end

local preempted = false
local function preempt(accept)
  local victim = lru_collect(accept, 1)[1]
  if not victim then return false end
  end_session(victim, 'preempted')
  preempted = true
  return true
end

if model == 'RegisteredUsers' then
  if redis.call('SISMEMBER', K_ACTIVE, USER) == 0 then
    -- Only a first sighting auto-activates: a user an admin deactivated stays inactive.
    if first_seen and registered and AUTO_ACTIVATE and redis.call('SCARD', K_ACTIVE) < limit then
      activate(USER)
      audit('user-activated', { user = USER, reason = 'auto-activate' })
    else
      return reply('user_inactive', 0)
    end
  end
  if at_user_limit() then return user_exhausted() end
  local cap = cap_of(model, limit)
  if #mine == 0 then
    -- The per-user guarantee: at cap, some user must hold a borrowed session; the oldest one ends.
    if total >= cap and (REJECT or not preempt(is_borrowed)) then return exhausted() end
  elseif total >= cap then
    return exhausted()
  end
else
  if at_user_limit() then return user_exhausted() end
  local reserved = redis.call('SISMEMBER', K_RESERVED, USER) == 1
  if reserved and #mine == 0 then
    if total >= limit and (REJECT or not preempt(is_not_reserved_own)) then return exhausted() end
  else
    -- Seats held back for reserved users who have no session yet.
    local waiting = 0
    for _, r in ipairs(redis.call('SMEMBERS', K_RESERVED)) do
      if r ~= USER and redis.call('HEXISTS', K_USESS, r) == 0 then waiting = waiting + 1 end
    end
    if total + waiting >= limit then return exhausted() end
  end
end

redis.call('HSET', K_SESSIONS, SID, session_record(USER, KIND, DEVICE, NOW, ORIGIN))
redis.call('ZADD', K_RECENCY, NOW, SID)
if KIND == 'service' then redis.call('ZADD', K_SVC, NOW + LIFETIME, SID) end
mine[#mine + 1] = SID
set_user_sessions(USER, mine)
log_activity('session-started', { session = SID, user = USER, clientKind = KIND, device = DEVICE })
record_usage()
if preempted then return reply('preempted', 1) end
return reply('admitted', 1)
