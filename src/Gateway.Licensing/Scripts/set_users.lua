-- Activates and deactivates a list of users, all or nothing (bootstrapping a tenant from the ERP's user list).
-- ARGV[4] most users the tenant may register, [5..] pairs: user, '1' | '0'. A user named twice is
-- refused by the caller.
-- Reply: { status, activeUsers, then per user: created (0|1) ..., ended pairs... } with status
-- ok | seat_limit_reached | user_limit_reached | tenant_unlicensed.
local MAX_USERS = tonumber(ARGV[4])
local model, limit = plan()
if not model then return with_ended({ 'tenant_unlicensed', 0 }) end

local after = redis.call('SCARD', K_ACTIVE)
local new_users = 0
for i = 5, #ARGV, 2 do
  local is_active = redis.call('SISMEMBER', K_ACTIVE, ARGV[i]) == 1
  local want = ARGV[i + 1] == '1'
  if want and not is_active then after = after + 1 end
  if not want and is_active then after = after - 1 end
  if redis.call('ZSCORE', K_USERS, ARGV[i]) == false then new_users = new_users + 1 end
end
if after > limit then return with_ended({ 'seat_limit_reached', redis.call('SCARD', K_ACTIVE) }) end
if redis.call('ZCARD', K_USERS) + new_users > MAX_USERS then
  return with_ended({ 'user_limit_reached', redis.call('SCARD', K_ACTIVE) })
end

purge(64)
local created = {}
-- Deactivations first, so their sessions end with reason 'deactivated' before any trim.
for pass = 0, 1 do
  for i = 5, #ARGV, 2 do
    local u, want = ARGV[i], ARGV[i + 1] == '1'
    if (pass == 0) ~= want then
      created[u] = redis.call('ZSCORE', K_USERS, u) == false
      if created[u] then register(u, MAX_USERS) end
      local is_active = redis.call('SISMEMBER', K_ACTIVE, u) == 1
      if want and not is_active then
        activate(u)
        audit('user-activated', { user = u, reason = 'bulk' })
      elseif not want and is_active then
        redis.call('SREM', K_ACTIVE, u)
        audit('user-deactivated', { user = u, reason = 'bulk' })
        if model == 'RegisteredUsers' then
          for _, sid in ipairs(user_sessions(u)) do end_session(sid, 'deactivated') end
        end
      end
    end
  end
end
if model == 'RegisteredUsers' then trim_to_cap(cap_of(model, limit), 'revoked') end
record_usage()
local reply = { 'ok', redis.call('SCARD', K_ACTIVE) }
for i = 5, #ARGV, 2 do reply[#reply + 1] = created[ARGV[i]] and 1 or 0 end
return with_ended(reply)
