-- Reports a live session as shared: a replica saw it used from a second origin (client address and
-- User-Agent). Each session is reported once, whichever replica sees it first; never refused.
-- ARGV[4] session id. Reply: { reported (0|1: this call reported it), ended pairs... }
local SID = ARGV[4]
local rec = redis.call('HGET', K_SESSIONS, SID)
if not rec then return with_ended({ 0 }) end
local reported, u, k, d = mark_shared(SID, rec)
if not reported then return with_ended({ 0 }) end
log_activity('session-shared', { session = SID, user = u, clientKind = k, device = d })
return with_ended({ 1 })
