-- (d) token-refresh with rotation on: every refresh token can be used once. bench/run logs in
-- BENCH_TOKEN_COUNT times beforehand and writes one refresh token a line to BENCH_TOKEN_FILE;
-- setup() deals them out to the wrk threads. Each thread keeps a pool: a request takes a token
-- out of it, and a 200 puts the rotated token from the response back in. Every connection has at
-- most one request in flight, so the pool never runs dry while every answer is a 200 — a token is
-- never presented twice, and no request is a reuse.
report_counters = { "rotated", "lost", "starved" }
require "report"

local all = {}
for line in io.lines(os.getenv("BENCH_TOKEN_FILE")) do
   if #line > 0 then table.insert(all, line) end
end
local nthreads = tonumber(os.getenv("BENCH_THREADS"))
local dealt = 0

setup = function(thread)
   report_thread(thread)
   local mine = {}
   for k = dealt + 1, #all, nthreads do
      table.insert(mine, all[k])
   end
   dealt = dealt + 1
   thread:set("initial", table.concat(mine, ","))
end

local headers = { ["Content-Type"] = "application/json" }
local pool = {}
rotated, lost, starved = 0, 0, 0

init = function(args)
   for t in string.gmatch(initial or "", "[^,]+") do
      table.insert(pool, t)
   end
end

request = function()
   local token = table.remove(pool)
   if token == nil then
      starved = starved + 1
      token = "pool-ran-dry"
   end
   return wrk.format("POST", "/api/v1/auth/token-refresh/", headers, '{"refresh":"' .. token .. '"}')
end

response = function(status, headers, body)
   local fresh = status == 200 and string.match(body, '"refresh"%s*:%s*"([^"]+)"')
   if fresh then
      rotated = rotated + 1
      table.insert(pool, fresh)
   else
      lost = lost + 1
   end
end
