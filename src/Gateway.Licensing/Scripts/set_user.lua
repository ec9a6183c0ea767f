-- Activates or deactivates one user.
-- ARGV[4] user, [5] '1' = activate, '0' = deactivate, [6] most users the tenant may register.
-- Reply: { status, active (0|1), ended pairs... } with status created | updated | unchanged |
-- seat_limit_reached | user_limit_reached | tenant_unlicensed.
local USER, ACTIVATE, MAX_USERS = ARGV[4], ARGV[5] == '1', tonumber(ARGV[6])
local model, limit = plan()
if not model then return with_ended({ 'tenant_unlicensed', 0 }) end

local known = redis.call('ZSCORE', K_USERS, USER) ~= false
local is_active = redis.call('SISMEMBER', K_ACTIVE, USER) == 1

if ACTIVATE then
  if is_active then return with_ended({ 'unchanged', 1 }) end
  if redis.call('SCARD', K_ACTIVE) >= limit then return with_ended({ 'seat_limit_reached', 0 }) end
  if not known and not register(USER, MAX_USERS) then return with_ended({ 'user_limit_reached', 0 }) end
  purge(64)
  activate(USER)
  audit('user-activated', { user = USER })
  record_usage()
  return with_ended({ known and 'updated' or 'created', 1 })
end

if not is_active then
  if known then return with_ended({ 'unchanged', 0 }) end
  if not register(USER, MAX_USERS) then return with_ended({ 'user_limit_reached', 0 }) end
  audit('user-registered', { user = USER })
  return with_ended({ 'created', 0 })
end

purge(64)
redis.call('SREM', K_ACTIVE, USER)
audit('user-deactivated', { user = USER })
if model == 'RegisteredUsers' then
  for _, sid in ipairs(user_sessions(USER)) do end_session(sid, 'deactivated') end
  trim_to_cap(cap_of(model, limit), 'revoked')
end
return with_ended({ 'updated', 0 })
