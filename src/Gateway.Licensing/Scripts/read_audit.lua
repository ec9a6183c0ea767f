-- Read-only: audit entries, newest first. The trail is two lists, admin changes (K_AUDIT)
-- and session activity (K_SESSLOG), each kept newest first by LPUSH, so each is in non-increasing
-- order of its store-clock time; they are merged by time here, to the microsecond ("us", the
-- microseconds within "at"). At equal times admin entries come first, each list in its own order:
-- one fixed order, which the cursor relies on. Times and the cursor are in milliseconds.
-- ARGV[4] since ms ('' = none): entries at or after it; [5] page size; [6] cursor time ('' = from
-- the newest): entries at or before it, [7] how many entries at exactly the cursor time the
-- previous pages already returned.
-- Reply: { hasMore (0|1), entries (as stored: JSON, or positional activity entries)... }
local SINCE = ARGV[4] ~= '' and tonumber(ARGV[4]) or nil
local LIMIT = tonumber(ARGV[5])
local BEFORE = ARGV[6] ~= '' and tonumber(ARGV[6]) or nil
local SKIP = tonumber(ARGV[7]) or 0

-- An entry is JSON, or a positional activity entry starting '~at\tus\t' (common.lua, log_activity).
-- In JSON, values are strings whose quotes cjson escapes, so the first '"at":' is the key.
local function at_of(e)
  if string.byte(e, 1) == 126 then return tonumber(string.match(e, '^~(%-?%d+)')) or 0 end
  return tonumber(string.match(e, '"at":(%-?[%d%.eE+]+)')) or 0
end

-- The merge key: milliseconds and the microseconds within them (0 for entries written without).
local function key_of(e, at)
  if string.byte(e, 1) == 126 then return at * 1000 + (tonumber(string.match(e, '^~%-?%d+\t(%d+)')) or 0) end
  return at * 1000 + (tonumber(string.match(e, '"us":(%d+)')) or 0)
end

local function reader(key)
  return { key = key, batch = {}, at = {}, pos = 1, start = 0, done = false }
end

-- The next entry of a list and its time, without taking it; nil at the end.
local function peek(r)
  if r.pos > #r.batch then
    if r.done then return nil end
    r.batch = redis.call('LRANGE', r.key, r.start, r.start + 255)
    r.start = r.start + 256
    r.pos = 1
    if #r.batch < 256 then r.done = true end
    if #r.batch == 0 then return nil end
    r.at = {}
  end
  local at = r.at[r.pos]
  if not at then
    local e = r.batch[r.pos]
    at = at_of(e)
    at = { at, key_of(e, at) }
    r.at[r.pos] = at
  end
  return r.batch[r.pos], at[1], at[2]
end

local admin, activity = reader(K_AUDIT), reader(K_SESSLOG)
local out = { 0 }
local skipped = 0
while true do
  local a, a_at, a_key = peek(admin)
  local s, s_at, s_key = peek(activity)
  if not a and not s then return out end
  local entry, at
  if a and (not s or a_key >= s_key) then
    entry, at = a, a_at
    admin.pos = admin.pos + 1
  else
    entry, at = s, s_at
    activity.pos = activity.pos + 1
  end
  if SINCE and at < SINCE then return out end
  local take = true
  if BEFORE then
    if at > BEFORE then
      take = false
    elseif at == BEFORE and skipped < SKIP then
      skipped = skipped + 1
      take = false
    end
  end
  if take then
    if #out - 1 >= LIMIT then
      out[1] = 1
      return out
    end
    out[#out + 1] = entry
  end
end
