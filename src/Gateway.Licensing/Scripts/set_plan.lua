-- Creates or changes a tenant's plan and re-establishes sessions <= cap (and each user's sessions <=
-- the per-user limit) at once (docs/licensing-rules.md, plan changes).
-- ARGV[4] model, [5] seat limit, [6] '1' = the plan comes from configuration (applied at start,
-- may lower the limit under the active users, and marks the plan as managed), [7] reserved users
-- separated by '\t' (may be empty), [8] the gateway's default per-user session limit, [9] the
-- gateway's enforcement for the tenant ('enforce' or 'shadow'), [10..] pairs of optional plan fields:
-- name, value ('' = the plan has no such field), e.g. maxSessionsPerUser, enforcement.
-- In shadow mode (after the change) nothing ends: the tenant may stay above its limits until it is
-- enforced again, which re-establishes them with these same rules.
-- Reply: { status, activeUsers, ended pairs... } with status created | updated |
-- managed_by_config | seat_limit_below_active_users.
local MODEL, LIMIT, FROM_CONFIG, RESERVED = ARGV[4], tonumber(ARGV[5]), ARGV[6] == '1', ARGV[7]
local current = redis.call('HMGET', K_PLAN, 'model', 'managed')
local active = redis.call('SCARD', K_ACTIVE)

if not FROM_CONFIG and current[2] == '1' then
  return with_ended({ 'managed_by_config', active })
end
if not FROM_CONFIG and active > LIMIT then
  return with_ended({ 'seat_limit_below_active_users', active })
end

purge(64)
redis.call('HSET', K_PLAN, 'model', MODEL, 'seatLimit', LIMIT, 'managed', FROM_CONFIG and '1' or '0')
local optional = {}
for i = 10, #ARGV, 2 do
  if ARGV[i + 1] == '' then
    redis.call('HDEL', K_PLAN, ARGV[i])
  else
    redis.call('HSET', K_PLAN, ARGV[i], ARGV[i + 1])
    optional[ARGV[i]] = tonumber(ARGV[i + 1]) or ARGV[i + 1]
  end
end
redis.call('DEL', K_RESERVED)
local reserved = {}
for r in string.gmatch(RESERVED or '', '[^\t]+') do
  redis.call('SADD', K_RESERVED, r)
  reserved[#reserved + 1] = r
end

-- Sessions of users who may no longer hold one end first, then borrowed, then the oldest others.
if not is_shadow(ARGV[9]) then enforce_limits(MODEL, LIMIT, ARGV[8], 'revoked') end

local status = 'updated'
if not current[1] then status = 'created' end
local fields = { model = MODEL, seatLimit = LIMIT, reservedUsers = reserved, fromConfig = FROM_CONFIG }
for name, value in pairs(optional) do fields[name] = value end
audit('plan-changed', fields)
record_usage()
return with_ended({ status, active })
