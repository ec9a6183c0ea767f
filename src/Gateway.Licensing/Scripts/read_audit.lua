-- Read-only: audit entries, newest first (SPEC §6). The list is kept newest first by LPUSH, so
-- entries are in non-increasing order of their store-clock time.
-- ARGV[4] since ms ('' = none): entries at or after it; [5] page size; [6] cursor time ('' = from
-- the newest): entries at or before it, [7] how many entries at exactly the cursor time the
-- previous pages already returned.
-- Reply: { hasMore (0|1), entries (raw JSON)... }
local SINCE = ARGV[4] ~= '' and tonumber(ARGV[4]) or nil
local LIMIT = tonumber(ARGV[5])
local BEFORE = ARGV[6] ~= '' and tonumber(ARGV[6]) or nil
local SKIP = tonumber(ARGV[7]) or 0

local out = { 0 }
local skipped = 0
local start = 0
while true do
  local batch = redis.call('LRANGE', K_AUDIT, start, start + 255)
  for _, entry in ipairs(batch) do
    -- Values are JSON strings whose quotes cjson escapes, so the first '"at":' is the key.
    local at = tonumber(string.match(entry, '"at":(%-?[%d%.eE+]+)')) or 0
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
  if #batch < 256 then return out end
  start = start + 256
end
