-- wrk script for admissions: every request asks for a new session. Request n carries token
-- (n mod #tokens) and X-Device-Id = PREFIX..n, so no (user, device) pair repeats within a run
-- (use wrk -t1: one Lua state, one counter). Arguments after "--": TOKENS_FILE DEVICE_PREFIX.
local tokens = {}
local prefix = "d"
local n = 0

function init(args)
  for line in io.lines(args[1]) do
    if #line > 0 then tokens[#tokens + 1] = "Bearer " .. line end
  end
  prefix = args[2] or prefix
end

function request()
  n = n + 1
  return wrk.format("GET", nil, {
    ["Authorization"] = tokens[(n % #tokens) + 1],
    ["X-Device-Id"] = prefix .. n,
  })
end
