-- Hands a plan that configuration no longer names over to the management API: the plan itself is
-- kept as it is, only its "managed by configuration" mark goes.
-- Reply: { released (0|1), ended pairs... }
local p = redis.call('HMGET', K_PLAN, 'model', 'seatLimit', 'managed')
if p[3] ~= '1' then return with_ended({ 0 }) end
redis.call('HSET', K_PLAN, 'managed', '0')
audit('plan-changed', { model = p[1], seatLimit = tonumber(p[2]), fromConfig = false, reason = 'removed-from-configuration' })
return with_ended({ 1 })
