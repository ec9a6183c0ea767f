-- Background sweep: ends expired sessions so counts and gauges are right without traffic, and
-- keeps the usage ledger to its retention. ARGV[4] batch size, [5] usage retention in days.
-- Reply: { moreToDo (0|1), ended pairs... }
local BATCH = tonumber(ARGV[4])
local RETENTION_DAYS = tonumber(ARGV[5])
purge(BATCH)
local more = 0
if #ENDED >= 2 * BATCH then more = 1 end
if redis.call('HLEN', K_USAGE) > RETENTION_DAYS then
  local oldest_kept = math.floor(NOW / 86400000) - RETENTION_DAYS
  for _, day in ipairs(redis.call('HKEYS', K_USAGE)) do
    if tonumber(day) < oldest_kept then redis.call('HDEL', K_USAGE, day) end
  end
end
return with_ended({ more })
