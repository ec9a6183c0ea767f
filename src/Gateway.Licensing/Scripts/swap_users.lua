-- Deactivates one user and activates another in one step, so no third party can take the freed
-- seat in between. ARGV[4] user to deactivate, [5] user to activate, [6] most users the
-- tenant may register.
-- Reply: { status, deactivatedActive (0|1), activatedActive (0|1), activatedCreated (0|1), ended pairs... }
-- with status ok | seat_limit_reached | user_limit_reached | tenant_unlicensed.
local OUT, IN, MAX_USERS = ARGV[4], ARGV[5], tonumber(ARGV[6])
local model, limit = plan()
if not model then return with_ended({ 'tenant_unlicensed', 0, 0, 0 }) end

local out_active = redis.call('SISMEMBER', K_ACTIVE, OUT) == 1
local in_active = redis.call('SISMEMBER', K_ACTIVE, IN) == 1
local after = redis.call('SCARD', K_ACTIVE)
if out_active then after = after - 1 end
if not in_active then after = after + 1 end
if after > limit then return with_ended({ 'seat_limit_reached', out_active and 1 or 0, in_active and 1 or 0, 0 }) end
local new_users = 0
if redis.call('ZSCORE', K_USERS, OUT) == false then new_users = new_users + 1 end
if IN ~= OUT and redis.call('ZSCORE', K_USERS, IN) == false then new_users = new_users + 1 end
if redis.call('ZCARD', K_USERS) + new_users > MAX_USERS then
  return with_ended({ 'user_limit_reached', out_active and 1 or 0, in_active and 1 or 0, 0 })
end

purge(64)
local created = 0
for _, u in ipairs({ OUT, IN }) do
  if redis.call('ZSCORE', K_USERS, u) == false then
    register(u, MAX_USERS)
    if u == IN then created = 1 end
  end
end
if out_active and OUT ~= IN then
  redis.call('SREM', K_ACTIVE, OUT)
  audit('user-deactivated', { user = OUT, reason = 'swap' })
  if model == 'RegisteredUsers' then
    for _, sid in ipairs(user_sessions(OUT)) do end_session(sid, 'deactivated') end
  end
end
if not in_active then
  activate(IN)
  audit('user-activated', { user = IN, reason = 'swap' })
end
if model == 'RegisteredUsers' then trim_to_cap(cap_of(model, limit), 'revoked') end
record_usage()
local out_now = redis.call('SISMEMBER', K_ACTIVE, OUT)
return with_ended({ 'ok', out_now, 1, created })
