-- Background sweep: ends expired sessions so counts and gauges are right without traffic, keeps the
-- usage ledger to its retention and forgets users who were never active once the user retention has
-- passed since their last sighting (or registration). ARGV[4] batch size, [5] usage retention in
-- days, [6] user retention in ms.
-- Reply: { moreToDo (0|1), forgottenUsers, nextDueMs, ended pairs... }; nextDueMs is when the tenant
-- next has something to do here (store clock): its first session to expire, or its first user to
-- forget; NOW while a batch left work over; -1 when nothing is pending. The gateway keeps it in its
-- index of due tenants, so the background sweep visits only tenants with work.
local BATCH = tonumber(ARGV[4])
local RETENTION_DAYS = tonumber(ARGV[5])
local USER_RETENTION = tonumber(ARGV[6])
purge(BATCH)
local more = 0
if #ENDED >= 2 * BATCH then more = 1 end

local cutoff = NOW - USER_RETENTION
local forgotten = 0
local candidates = redis.call('ZRANGEBYSCORE', K_UNUSED, '-inf', cutoff, 'LIMIT', 0, BATCH)
if #candidates >= BATCH then more = 1 end
for _, u in ipairs(candidates) do
  local seen = tonumber(redis.call('HGET', K_SEEN, u) or '0')
  if redis.call('SISMEMBER', K_ACTIVE, u) == 1 then
    redis.call('ZREM', K_UNUSED, u)
  elseif redis.call('HEXISTS', K_USESS, u) == 1 then
    -- Still in use (a session is refreshed without a new sighting): look again one retention later.
    redis.call('ZADD', K_UNUSED, NOW, u)
  elseif seen > cutoff then
    redis.call('ZADD', K_UNUSED, seen, u)
  else
    redis.call('ZREM', K_UNUSED, u)
    redis.call('ZREM', K_USERS, u)
    redis.call('HDEL', K_SEEN, u)
    forgotten = forgotten + 1
  end
end
if redis.call('HLEN', K_USAGE) > RETENTION_DAYS then
  local oldest_kept = math.floor(NOW / 86400000) - RETENTION_DAYS
  for _, day in ipairs(redis.call('HKEYS', K_USAGE)) do
    if tonumber(day) < oldest_kept then redis.call('HDEL', K_USAGE, day) end
  end
end

local next_due = -1
local function sooner(score, offset)
  if score then
    local at = tonumber(score) + offset
    if next_due < 0 or at < next_due then next_due = at end
  end
end
if more == 1 then
  next_due = NOW
else
  sooner(redis.call('ZRANGE', K_RECENCY, 0, 0, 'WITHSCORES')[2], IDLE)
  sooner(redis.call('ZRANGE', K_SVC, 0, 0, 'WITHSCORES')[2], 0)
  sooner(redis.call('ZRANGE', K_UNUSED, 0, 0, 'WITHSCORES')[2], USER_RETENTION)
end
return with_ended({ more, forgotten, int(next_due) })
