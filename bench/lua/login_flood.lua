-- (g) the login flood: like login.lua, but paced so that the offered rate stays near
-- BENCH_RATE logins/s (bench/run sets it to four times the hashing capacity), and the answers are
-- counted by status.
--
-- wrk is a closed loop: a connection sends its next request `delay()` ms after its answer. Each
-- thread starts from BENCH_DELAY_MS and, once a second, scales its delay by how far the last
-- second's count fell from its share of BENCH_RATE, so the slow answers of the connections that
-- wait in Porteiro's hashing queue do not lower the offered rate. A random jitter keeps the
-- connections from marching in step.
report_counters = { "s200", "s503", "s503_retry_after", "sother", "sent" }
require "report"

local users = {}
for u in string.gmatch(os.getenv("BENCH_USERS"), "[^,]+") do
   table.insert(users, u)
end
local password = os.getenv("BENCH_PASSWORD")
local headers = { ["Content-Type"] = "application/json" }
local pause = tonumber(os.getenv("BENCH_DELAY_MS"))
local share = tonumber(os.getenv("BENCH_RATE")) / tonumber(os.getenv("BENCH_THREADS"))
-- The first second is a partial one: it only starts the count.
local second, this_second, counting = os.time(), 0, false
local i = 0
s200, s503, s503_retry_after, sother, sent = 0, 0, 0, 0, 0

request = function()
   local now = os.time()
   if now ~= second then
      if counting and now == second + 1 and this_second > 0 then
         local scale = math.sqrt(this_second / share)
         scale = math.max(0.7, math.min(1.4, scale))
         pause = math.max(1, pause * scale)
      end
      second, this_second, counting = now, 0, true
   end
   this_second = this_second + 1
   sent = sent + 1
   i = i + 1
   local user = users[(i % #users) + 1]
   return wrk.format("POST", "/api/v1/auth/token/1/", headers,
      '{"username":"' .. user .. '","password":"' .. password .. '"}')
end

delay = function()
   return math.floor(pause * (0.5 + math.random()))
end

response = function(status, headers, body)
   if status == 200 then
      s200 = s200 + 1
   elseif status == 503 then
      s503 = s503 + 1
      if headers["Retry-After"] or headers["retry-after"] then
         s503_retry_after = s503_retry_after + 1
      end
   else
      sother = sother + 1
   end
end
