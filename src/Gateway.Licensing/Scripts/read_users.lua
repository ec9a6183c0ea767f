-- Read-only: one page of the tenant's users in lexical order of their ids.
-- ARGV[4] cursor: the last user id of the previous page ('' = from the start), [5] page size,
-- [6] filter: '' = all, '1' = active only, '0' = inactive only, [7] how many users one call may
-- examine at most (bounds the work of a filtered page; the page may then be short).
-- Reply: { nextCursor ('' = no more users), then per user: id, active (0|1), live sessions, lastSeenMs ('' = never) }
-- Paging walks the users zset (score 0) with ZRANGEBYLEX from the cursor: each page costs
-- O(log N + examined), never a scan of the whole set, and since ids only move forward every user
-- present for the whole walk is listed exactly once, whoever registers meanwhile.
local AFTER, LIMIT, FILTER, BUDGET = ARGV[4], tonumber(ARGV[5]), ARGV[6], tonumber(ARGV[7])

-- Whether a session is live, and its last use (0 when unknown).
local function alive(sid)
  local last = redis.call('ZSCORE', K_RECENCY, sid)
  if not last then return false, 0 end
  last = tonumber(last)
  if last + IDLE <= NOW then return false, last end
  local deadline = redis.call('ZSCORE', K_SVC, sid)
  return not deadline or tonumber(deadline) > NOW, last
end

local out = { '' }
local found, examined = 0, 0
local min = AFTER == '' and '-' or ('(' .. AFTER)
local last = nil
local exhausted = false
while found < LIMIT and examined < BUDGET do
  local want = FILTER == '' and (LIMIT - found) or math.min(BUDGET - examined, 256)
  local batch = redis.call('ZRANGEBYLEX', K_USERS, min, '+', 'LIMIT', 0, want)
  for _, u in ipairs(batch) do
    examined = examined + 1
    last = u
    local active = redis.call('SISMEMBER', K_ACTIVE, u)
    if FILTER == '' or (FILTER == '1') == (active == 1) then
      -- Last seen: the user's last sighting without a session, or the last use of one of its sessions.
      local live, seen = 0, tonumber(redis.call('HGET', K_SEEN, u) or '0')
      for _, sid in ipairs(user_sessions(u)) do
        local is_live, last = alive(sid)
        if is_live then live = live + 1 end
        if last > seen then seen = last end
      end
      out[#out + 1] = u
      out[#out + 1] = active
      out[#out + 1] = live
      out[#out + 1] = seen > 0 and int(seen) or ''
      found = found + 1
    end
    if found >= LIMIT or examined >= BUDGET then break end
  end
  if found >= LIMIT or examined >= BUDGET then break end
  if #batch < want then exhausted = true break end
  min = '(' .. last
end
if last and not exhausted then
  -- More users may follow: only a cursor when one does.
  if #redis.call('ZRANGEBYLEX', K_USERS, '(' .. last, '+', 'LIMIT', 0, 1) > 0 then out[1] = last end
end
return out
