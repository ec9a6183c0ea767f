-- Shared prelude of every licensing script; the store prepends it to each script body.
-- Every key is passed in KEYS (all under the tenant's hash tag lic:{tenant}:...), in this order,
-- so a script runs on Redis Cluster and the embedded store locks exactly what it touches.
local K_PLAN      = KEYS[1]  -- hash: model, seatLimit, managed
local K_RESERVED  = KEYS[2]  -- set: reserved users (ConcurrentSessions)
local K_USERS     = KEYS[3]  -- zset, score 0: every known user, in lexical order for paging
local K_ACTIVE    = KEYS[4]  -- set: active users
local K_SESSIONS  = KEYS[5]  -- hash: session id -> "user\tkind\tdevice\tstartedMs"
local K_RECENCY   = KEYS[6]  -- zset: session id -> last used (ms, store clock)
local K_SVC       = KEYS[7]  -- zset: service session id -> absolute deadline (ms)
local K_USESS     = KEYS[8]  -- hash: user -> space separated session ids
local K_AUDIT     = KEYS[9]  -- list: JSON audit entries, newest first, capped
local K_USAGE     = KEYS[10] -- hash: UTC epoch day -> "peakSessions:peakActiveUsers"
local K_SEEN      = KEYS[11] -- hash: user -> last seen (ms)

-- ARGV[1..3] are common to every script.
-- IDLE: how long after its recency (last recorded use) the store keeps a session: the idle timeout
-- plus the touch interval. The gateway records use lazily, at most once per touch interval, and never
-- lets a session's recency fall a touch interval or more behind its last request (see
-- docs/sessions.md), so a session ends between IdleTimeout and IdleTimeout + TouchInterval after its
-- last request and never before IdleTimeout. Purge, Retry-After, listings and counts all use it.
local IDLE = tonumber(ARGV[1])
local AUDIT_CAP = tonumber(ARGV[2])
local ACTOR = ARGV[3]

local function now_ms()
  local t = redis.call('TIME')
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

local function audit(action, fields)
  fields.at = NOW
  fields.action = action
  fields.actor = ACTOR
  redis.call('LPUSH', K_AUDIT, cjson.encode(fields))
  audited = true
end

local function finish()
  if audited then redis.call('LTRIM', K_AUDIT, 0, AUDIT_CAP - 1) end
end

local function split_words(v)
  local out = {}
  if v then
    for w in string.gmatch(v, '%S+') do out[#out + 1] = w end
  end
  return out
end

local function user_sessions(user)
  return split_words(redis.call('HGET', K_USESS, user))
end

local function set_user_sessions(user, list)
  if #list == 0 then
    redis.call('HDEL', K_USESS, user)
  else
    redis.call('HSET', K_USESS, user, table.concat(list, ' '))
  end
end

local function parse_session(rec)
  local u, k, d, s = string.match(rec, '^([^\t]*)\t([^\t]*)\t([^\t]*)\t([^\t]*)$')
  return u, k, d, tonumber(s)
end

local function session_user(rec)
  return string.match(rec, '^([^\t]*)')
end

local function plan()
  local p = redis.call('HMGET', K_PLAN, 'model', 'seatLimit')
  if not p[1] then return nil, 0 end
  return p[1], tonumber(p[2])
end

local function cap_of(model, limit)
  if model == 'RegisteredUsers' then
    return math.min(redis.call('SCARD', K_ACTIVE), limit)
  end
  return limit
end

local function record_usage()
  local day = int(math.floor(NOW / 86400000))
  local cur = redis.call('HGET', K_USAGE, day)
  local peak_s, peak_u = -1, -1
  if cur then
    local a, b = string.match(cur, '^(%d+):(%d+)$')
    peak_s, peak_u = tonumber(a), tonumber(b)
  end
  local s = redis.call('HLEN', K_SESSIONS)
  local u = redis.call('SCARD', K_ACTIVE)
  if s > peak_s or u > peak_u then
    redis.call('HSET', K_USAGE, day, int(math.max(s, peak_s)) .. ':' .. int(math.max(u, peak_u)))
  end
end

local function end_session(sid, reason)
  local rec = redis.call('HGET', K_SESSIONS, sid)
  if not rec then return nil end
  local u, k = parse_session(rec)
  redis.call('HDEL', K_SESSIONS, sid)
  redis.call('ZREM', K_RECENCY, sid)
  if k == 'service' then redis.call('ZREM', K_SVC, sid) end
  local list = user_sessions(u)
  for i = #list, 1, -1 do
    if list[i] == sid then table.remove(list, i) end
  end
  set_user_sessions(u, list)
  ENDED[#ENDED + 1] = sid
  ENDED[#ENDED + 1] = reason
  audit('session-ended', { session = sid, user = u, reason = reason })
  return u
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

-- Re-establishes sessions <= cap: borrowed sessions end first, then the least recently used others.
local function trim_to_cap(cap, reason)
  local excess = redis.call('HLEN', K_SESSIONS) - cap
  if excess <= 0 then return end
  for _, sid in ipairs(lru_collect(is_borrowed, excess)) do end_session(sid, reason) end
  excess = redis.call('HLEN', K_SESSIONS) - cap
  if excess > 0 then
    for _, sid in ipairs(redis.call('ZRANGE', K_RECENCY, 0, excess - 1)) do end_session(sid, reason) end
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

local function with_ended(reply)
  for _, v in ipairs(ENDED) do reply[#reply + 1] = v end
  finish()
  return reply
end

