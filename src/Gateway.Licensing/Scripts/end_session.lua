-- Ends one session (logout, admin or the user's own request).
-- ARGV[4] session id, [5] reason, [6] optional owner: when set, the session must belong to it.
-- Reply: { found (0|1), ended pairs... }
local SID, REASON, OWNER = ARGV[4], ARGV[5], ARGV[6]
local rec = redis.call('HGET', K_SESSIONS, SID)
if not rec or (OWNER and OWNER ~= '' and session_user(rec) ~= OWNER) then
  return with_ended({ 0 })
end
end_session(SID, REASON)
return with_ended({ 1 })
