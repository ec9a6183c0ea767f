-- Read-only: details of the given live sessions (the management API's session shape), consistent with one
-- another at one instant of the store clock. ARGV[4..] session ids; ids no longer live are skipped.
-- Reply: flat groups of 8: id, user, kind, device, startedMs, lastUsedMs, expiresMs, borrowed (0|1).
-- A session's expiry is the earlier of its sliding idle expiry and, for a service session, its
-- lifetime deadline. Of a user's sessions the most recently used one (by recency score, then id:
-- the order admission walks them in) is the user's own; the others are borrowed.
local own_of = {}
local function own(u)
  local o = own_of[u]
  if o == nil then
    local best, best_score = false, nil
    for _, sid in ipairs(user_sessions(u)) do
      local s = redis.call('ZSCORE', K_RECENCY, sid)
      if s then
        s = tonumber(s)
        if best_score == nil or s > best_score or (s == best_score and sid > best) then
          best, best_score = sid, s
        end
      end
    end
    o = best
    own_of[u] = o
  end
  return o
end

local out = {}
for i = 4, #ARGV do
  local sid = ARGV[i]
  local rec = redis.call('HGET', K_SESSIONS, sid)
  local last = rec and redis.call('ZSCORE', K_RECENCY, sid)
  if last then
    local u, k, d, started = parse_session(rec)
    last = tonumber(last)
    local expires = last + IDLE
    if k == 'service' then
      local deadline = redis.call('ZSCORE', K_SVC, sid)
      if deadline then expires = math.min(expires, tonumber(deadline)) end
    end
    if expires > NOW then
      out[#out + 1] = sid
      out[#out + 1] = u
      out[#out + 1] = k
      out[#out + 1] = d
      out[#out + 1] = int(started)
      out[#out + 1] = int(last)
      out[#out + 1] = int(expires)
      out[#out + 1] = own(u) == sid and 0 or 1
    end
  end
end
return out
