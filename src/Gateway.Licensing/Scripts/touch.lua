-- Refreshes the sliding expiry of live sessions in one batch (lazy touches, SPEC §4).
-- ARGV[4..] session ids. Reply: { missingCount, missing ids..., ended pairs... }
purge(64)
local missing = {}
for i = 4, #ARGV do
  local sid = ARGV[i]
  local rec = redis.call('HGET', K_SESSIONS, sid)
  if rec then
    redis.call('ZADD', K_RECENCY, NOW, sid)
    redis.call('HSET', K_SEEN, session_user(rec), NOW)
  else
    missing[#missing + 1] = sid
  end
end
local reply = { #missing }
for _, sid in ipairs(missing) do reply[#reply + 1] = sid end
return with_ended(reply)
