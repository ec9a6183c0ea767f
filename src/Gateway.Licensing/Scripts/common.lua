-- Shared prelude of every licensing script; the store prepends it to each script body.
-- Every key is passed in KEYS (all under the tenant's hash tag lic:{tenant}:...), in this order,
-- so a script runs on Redis Cluster and the embedded store locks exactly what it touches.
local K_PLAN      = KEYS[1]  -- hash: model, seatLimit, managed
local K_RESERVED  = KEYS[2]  -- set: reserved users (ConcurrentSessions)
local K_USERS     = KEYS[3]  -- zset, score 0: every known user, in lexical order for paging
local K_ACTIVE    = KEYS[4]  -- set: active users
local K_SESSIONS  = KEYS[5]  -- hash: session id -> "user\tkind\tdevice\tstartedMs[\torigin]"
local K_RECENCY   = KEYS[6]  -- zset: session id -> last used (ms, store clock)
local K_SVC       = KEYS[7]  -- zset: service session id -> absolute deadline (ms)
local K_USESS     = KEYS[8]  -- hash: user -> space separated session ids, after '!' for a parked user (see PARKED_MARK)
local K_AUDIT     = KEYS[9]  -- list: JSON audit entries, newest first, capped
local K_USAGE     = KEYS[10] -- hash: UTC epoch day -> "peakSessions:peakActiveUsers"
local K_SEEN      = KEYS[11] -- hash: user -> a last sighting no session's recency holds (ms): without a session, or refused one
local K_SESSLOG   = KEYS[12] -- list: entries of session activity (see log_activity), newest first, capped
local K_UNUSED    = KEYS[13] -- zset: registered users never active and without a session -> registered or last seen (ms)
local K_SHADOW    = KEYS[14] -- hash: live session id -> what enforcement would have done at its start

-- ARGV[1..3] are common to every script.
-- IDLE: how long after its recency (last recorded use) the store keeps a session: the idle timeout
-- plus the touch interval. The gateway records use lazily, at most once per touch interval, and never
-- lets a session's recency fall a touch interval or more behind its last request (see
-- docs/sessions.md), so a session ends between IdleTimeout and IdleTimeout + TouchInterval after its
-- last request and never before IdleTimeout. Purge, Retry-After, listings and counts all use it.
local IDLE = tonumber(ARGV[1])
local AUDIT_CAP = tonumber(ARGV[2])
local ACTOR = ARGV[3]

-- Microseconds within NOW's millisecond: orders log entries of different scripts within one millisecond.
local NOW_US = 0
local function now_ms()
  local t = redis.call('TIME')
  NOW_US = tonumber(t[2]) % 1000
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
-- The store's clock is the only clock of a licensing decision.
local NOW = now_ms()

-- Sessions ended by this script, as flat (id, reason) pairs, returned to the caller so every
-- replica can forget them and count them.
local ENDED = {}
local audited = false

local function int(n)
  return string.format('%d', n)
end

local logged = false

-- Two capped logs, so session churn never evicts admin history: audit() records changes made by
-- admins, configuration and the plan (users, plans, the sessions those changes end); log_activity()
-- records what traffic does (session starts and ends, first sightings, sharing).
local function entry(action, fields)
  fields.at = NOW
  fields.us = NOW_US
  fields.action = action
  fields.actor = ACTOR
  return cjson.encode(fields)
end

-- audited / logged: the list grew past its cap in this script, so finish() trims it (LPUSH answers the
-- length; a trim on every write was one more command per admission).
local function audit(action, fields)
  if redis.call('LPUSH', K_AUDIT, entry(action, fields)) > AUDIT_CAP then audited = true end
end

-- Session activity is most of what a tenant's logs hold (an entry per session start and end), so
-- its entries are positional, about half the bytes of the JSON form: '~' and the time (ms), then
-- microseconds, action, actor, session, user, clientKind, device, reason, separated by tabs; an
-- empty field is one the action does not have. An entry that cannot be written so (an empty value, a
-- tab in a value, another field) is written as JSON: readers take both forms.
local ACTIVITY_FIELDS = { 'session', 'user', 'clientKind', 'device', 'reason' }
local ACTIVITY_FIELD_SET = { session = true, user = true, clientKind = true, device = true, reason = true }

local function compact_entry(action, fields)
  for name, v in pairs(fields) do
    if not ACTIVITY_FIELD_SET[name] or type(v) ~= 'string' or v == '' or string.find(v, '\t', 1, true) then return nil end
  end
  if string.find(ACTOR, '\t', 1, true) or ACTOR == '' then return nil end
  local parts = { '~' .. int(NOW), int(NOW_US), action, ACTOR }
  for _, name in ipairs(ACTIVITY_FIELDS) do parts[#parts + 1] = fields[name] or '' end
  return table.concat(parts, '\t')
end

local function log_activity(action, fields)
  if redis.call('LPUSH', K_SESSLOG, compact_entry(action, fields) or entry(action, fields)) > AUDIT_CAP then logged = true end
end

local function finish()
  if audited then redis.call('LTRIM', K_AUDIT, 0, AUDIT_CAP - 1) end
  if logged then redis.call('LTRIM', K_SESSLOG, 0, AUDIT_CAP - 1) end
end

local function split_words(v)
  local out = {}
  if v then
    for w in string.gmatch(v, '%S+') do out[#out + 1] = w end
  end
  return out
end

-- A registered user who was never active is kept in K_UNUSED, so the sweep can forget them, except
-- while they hold a session: a zset entry per session's user was the largest cost of a live session.
-- Their session list then starts with PARKED_MARK instead, and their last session to end files them in
-- K_UNUSED again, dated by its last use. Activation drops the mark, so a user who was active once is
-- never forgotten, even if deactivated while a session lives. PARKED: users of this script whose
-- stored list carries the mark (or who were parked by it).
local PARKED_MARK = '!'
local PARKED = {}

local function user_sessions(user)
  local list = split_words(redis.call('HGET', K_USESS, user))
  if list[1] == PARKED_MARK then
    table.remove(list, 1)
    PARKED[user] = true
  end
  return list
end

local function set_user_sessions(user, list)
  if #list == 0 then
    redis.call('HDEL', K_USESS, user)
  elseif PARKED[user] then
    redis.call('HSET', K_USESS, user, PARKED_MARK .. ' ' .. table.concat(list, ' '))
  else
    redis.call('HSET', K_USESS, user, table.concat(list, ' '))
  end
end

-- A session record: user, kind, device, start (ms) and, when known, its origin: the hashed client
-- address and User-Agent of its first use, '*' once the session was reported shared. Ids are
-- printable ASCII, so a tab never occurs inside a field.
local function parse_session(rec)
  local u, k, d, s, o = string.match(rec, '^([^\t]*)\t([^\t]*)\t([^\t]*)\t(%-?%d+)\t?([^\t]*)$')
  return u, k, d, tonumber(s), o or ''
end

local function session_record(u, k, d, started, origin)
  local rec = u .. '\t' .. k .. '\t' .. d .. '\t' .. int(started)
  if origin ~= '' then rec = rec .. '\t' .. origin end
  return rec
end

-- The sharing signal: marks a live session as reported shared. Returns true when this call did.
local function mark_shared(sid, rec)
  local u, k, d, s, o = parse_session(rec)
  if o == '*' then return false end
  redis.call('HSET', K_SESSIONS, sid, session_record(u, k, d, s, '*'))
  return true, u, k, d
end

local function session_user(rec)
  return string.match(rec, '^([^\t]*)')
end

-- The plan in one read: model, seat limit, then the plan's own enforcement and per-user limit
-- (false where the plan leaves them to the gateway's defaults; see shadow_of and per_user_limit_of).
local function plan()
  local p = redis.call('HMGET', K_PLAN, 'model', 'seatLimit', 'enforcement', 'maxSessionsPerUser')
  if not p[1] then return nil, 0 end
  return p[1], tonumber(p[2]), p[3], p[4]
end

local function cap_of(model, limit)
  if model == 'RegisteredUsers' then
    return math.min(redis.call('SCARD', K_ACTIVE), limit)
  end
  return limit
end

-- live_sessions: the tenant's live sessions when the caller knows them (nil: read them).
local function record_usage(live_sessions)
  local day = int(math.floor(NOW / 86400000))
  local cur = redis.call('HGET', K_USAGE, day)
  local peak_s, peak_u = -1, -1
  if cur then
    local a, b = string.match(cur, '^(%d+):(%d+)$')
    peak_s, peak_u = tonumber(a), tonumber(b)
  end
  local s = live_sessions or redis.call('HLEN', K_SESSIONS)
  local u = redis.call('SCARD', K_ACTIVE)
  if s > peak_s or u > peak_u then
    redis.call('HSET', K_USAGE, day, int(math.max(s, peak_s)) .. ':' .. int(math.max(u, peak_u)))
  end
end

local function end_session(sid, reason)
  local rec = redis.call('HGET', K_SESSIONS, sid)
  if not rec then return nil end
  local u, k = parse_session(rec)
  local last_used = redis.call('ZSCORE', K_RECENCY, sid)
  redis.call('HDEL', K_SESSIONS, sid)
  redis.call('ZREM', K_RECENCY, sid)
  redis.call('HDEL', K_SHADOW, sid)
  if k == 'service' then redis.call('ZREM', K_SVC, sid) end
  local list = user_sessions(u)
  for i = #list, 1, -1 do
    if list[i] == sid then table.remove(list, i) end
  end
  set_user_sessions(u, list)
  -- A registered user's last session hands its last use on as the user's last sighting; a user the
  -- tenant could not register (user quota) leaves nothing behind.
  if #list == 0 then
    if redis.call('ZSCORE', K_USERS, u) == false then
      redis.call('HDEL', K_SEEN, u)
    else
      if last_used then
        local seen = tonumber(redis.call('HGET', K_SEEN, u) or '0')
        if tonumber(last_used) > seen then redis.call('HSET', K_SEEN, u, last_used) end
      end
      if PARKED[u] then redis.call('ZADD', K_UNUSED, last_used or NOW, u) end
    end
    PARKED[u] = nil
  end
  ENDED[#ENDED + 1] = sid
  ENDED[#ENDED + 1] = reason
  local fields = { session = sid, user = u, reason = reason }
  if reason == 'revoked' or reason == 'deactivated' then audit('session-ended', fields) else log_activity('session-ended', fields) end
  return u
end

-- Registers a user unless the tenant already holds MAX users (the user quota). A registered user
-- that was never active is also kept in K_UNUSED, so it can be forgotten after the retention.
-- REGISTERED_AT: when this script registered a user (0: it did not), so the caller can file the
-- tenant in the due index for the day that user may be forgotten.
local REGISTERED_AT = 0
local function register(user, max)
  if redis.call('ZCARD', K_USERS) >= max then return false end
  redis.call('ZADD', K_USERS, 0, user)
  redis.call('ZADD', K_UNUSED, NOW, user)
  REGISTERED_AT = NOW
  return true
end

-- Makes a user active; from then on the user is kept until an admin's change says otherwise.
local function activate(user)
  redis.call('SADD', K_ACTIVE, user)
  -- A user found in K_UNUSED holds no mark; only one who was not there may be parked.
  if redis.call('ZREM', K_UNUSED, user) == 1 then return end
  local list = user_sessions(user)
  if PARKED[user] then
    PARKED[user] = nil
    set_user_sessions(user, list)
  end
end

-- A never-active user starting a session leaves K_UNUSED while it lives (see PARKED_MARK).
local function park_if_unused(user)
  if redis.call('ZREM', K_UNUSED, user) == 1 then PARKED[user] = true end
end

-- Ends expired sessions: idle ones first, then service sessions past their lifetime.
local function purge(limit)
  local idle = redis.call('ZRANGEBYSCORE', K_RECENCY, '-inf', NOW - IDLE, 'LIMIT', 0, limit)
  for _, sid in ipairs(idle) do end_session(sid, 'idle') end
  local dead = redis.call('ZRANGEBYSCORE', K_SVC, '-inf', NOW, 'LIMIT', 0, limit)
  for _, sid in ipairs(dead) do end_session(sid, 'lifetime') end
end

-- Ends one session now if it has expired (idle, or a service session past its deadline), whether or
-- not a purge has reached it: a purge ends at most a batch per call, and a session past its time must
-- never be refreshed. Returns true when the session ended here.
local function expire_if_due(sid)
  local last = redis.call('ZSCORE', K_RECENCY, sid)
  if last and tonumber(last) <= NOW - IDLE then
    end_session(sid, 'idle')
    return true
  end
  local deadline = redis.call('ZSCORE', K_SVC, sid)
  if deadline and tonumber(deadline) <= NOW then
    end_session(sid, 'lifetime')
    return true
  end
  return false
end

-- Walks sessions from least to most recently used and collects up to n that accept(sid, user, own)
-- takes. A user's own session is the most recently used of theirs (the last one met on this walk);
-- the others are borrowed.
local function lru_collect(accept, n)
  local found = {}
  local total_of, seen_of = {}, {}
  local start = 0
  while #found < n do
    local batch = redis.call('ZRANGE', K_RECENCY, start, start + 127)
    if #batch == 0 then break end
    for _, sid in ipairs(batch) do
      local rec = redis.call('HGET', K_SESSIONS, sid)
      if rec then
        local u = session_user(rec)
        if total_of[u] == nil then
          total_of[u] = #user_sessions(u)
          seen_of[u] = 0
        end
        seen_of[u] = seen_of[u] + 1
        if accept(sid, u, seen_of[u] >= total_of[u]) then
          found[#found + 1] = sid
          if #found >= n then break end
        end
      end
    end
    start = start + 128
  end
  return found
end

local function is_borrowed(_, _, own)
  return not own
end

local function is_not_reserved_own(_, u, own)
  return not (own and redis.call('SISMEMBER', K_RESERVED, u) == 1)
end

-- Re-establishes sessions <= cap: borrowed sessions end first, then the least recently used others,
-- a reserved user's own session only when nothing else is left to end.
local function trim_to_cap(cap, reason)
  local excess = redis.call('HLEN', K_SESSIONS) - cap
  if excess <= 0 then return end
  for _, sid in ipairs(lru_collect(is_borrowed, excess)) do end_session(sid, reason) end
  excess = redis.call('HLEN', K_SESSIONS) - cap
  if excess <= 0 then return end
  for _, sid in ipairs(lru_collect(is_not_reserved_own, excess)) do end_session(sid, reason) end
  excess = redis.call('HLEN', K_SESSIONS) - cap
  if excess > 0 then
    for _, sid in ipairs(redis.call('ZRANGE', K_RECENCY, 0, excess - 1)) do end_session(sid, reason) end
  end
end

-- The per-user limit: the plan's own value, else the gateway's default (0 = no limit).
local function per_user_limit_of(plan_value, default)
  return tonumber(plan_value or default) or 0
end

local function per_user_limit(default)
  return per_user_limit_of(redis.call('HGET', K_PLAN, 'maxSessionsPerUser'), default)
end

-- Ends each user's least recently used sessions above the per-user limit.
local function trim_users_to(limit, reason)
  if limit <= 0 then return end
  for _, u in ipairs(redis.call('HKEYS', K_USESS)) do
    local list = user_sessions(u)
    if #list > limit then
      local scored = {}
      for _, sid in ipairs(list) do
        scored[#scored + 1] = { sid, tonumber(redis.call('ZSCORE', K_RECENCY, sid) or '0') }
      end
      table.sort(scored, function(a, b) return a[2] < b[2] or (a[2] == b[2] and a[1] < b[1]) end)
      for i = 1, #list - limit do end_session(scored[i][1], reason) end
    end
  end
end

-- Under RegisteredUsers only active users may hold sessions.
local function end_sessions_of_inactive_users(reason)
  for _, u in ipairs(redis.call('HKEYS', K_USESS)) do
    if redis.call('SISMEMBER', K_ACTIVE, u) == 0 then
      for _, sid in ipairs(user_sessions(u)) do end_session(sid, reason) end
    end
  end
end

-- Whether the tenant runs in shadow mode: the plan's own enforcement, else the gateway's default for
-- the tenant (DEFAULT: 'enforce' or 'shadow', from configuration).
local function shadow_of(plan_mode, default)
  return (plan_mode or default) == 'shadow'
end

local function is_shadow(default)
  return shadow_of(redis.call('HGET', K_PLAN, 'enforcement'), default)
end

-- Re-establishes what enforcement guarantees (only active users hold sessions under RegisteredUsers,
-- sessions <= cap, each user's sessions <= the per-user limit), with the rules of a plan change. Runs
-- when a tenant is enforced again after shadow mode, which may have left it above all three.
local function enforce_limits(model, limit, default_per_user, reason)
  if model == 'RegisteredUsers' then end_sessions_of_inactive_users(reason) end
  trim_to_cap(cap_of(model, limit), reason)
  trim_users_to(per_user_limit(default_per_user), reason)
  redis.call('DEL', K_SHADOW)
end

local function with_ended(reply)
  for _, v in ipairs(ENDED) do reply[#reply + 1] = v end
  finish()
  return reply
end

