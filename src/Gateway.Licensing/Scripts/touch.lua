-- Refreshes the sliding expiry of live sessions in one batch (lazy touches).
-- ARGV[4..] pairs: session id, and the start (ms) the caller knows it by, or 0 for any. A session that
-- has expired (even one no purge has reached yet) is ended, not refreshed; one that ended and started
-- again since the caller learnt of it is left alone. Both are reported missing: the caller's copy of
-- them is over.
-- Reply: { missingCount, missing ids..., ended pairs... }
purge(64)
local missing = {}
for i = 4, #ARGV, 2 do
  local sid, started = ARGV[i], tonumber(ARGV[i + 1])
  local rec = redis.call('HGET', K_SESSIONS, sid)
  local live = rec and not expire_if_due(sid)
  if live and started ~= 0 then
    local _, _, _, s = parse_session(rec)
    live = s == started
  end
  if live then
    redis.call('ZADD', K_RECENCY, NOW, sid)
  else
    missing[#missing + 1] = sid
  end
end
local reply = { #missing }
for _, sid in ipairs(missing) do reply[#reply + 1] = sid end
return with_ended(reply)
