-- (g) the login flood: like login.lua, but each connection waits BENCH_DELAY_MS between its
-- requests, so that the offered rate is about connections / delay (bench/run sets it to four
-- times the hashing capacity), and the answers are counted by status.
report_counters = { "s200", "s503", "s503_retry_after", "sother" }
require "report"

local users = {}
for u in string.gmatch(os.getenv("BENCH_USERS"), "[^,]+") do
   table.insert(users, u)
end
local password = os.getenv("BENCH_PASSWORD")
local headers = { ["Content-Type"] = "application/json" }
local pause = tonumber(os.getenv("BENCH_DELAY_MS"))
local i = 0
s200, s503, s503_retry_after, sother = 0, 0, 0, 0

request = function()
   i = i + 1
   local user = users[(i % #users) + 1]
   return wrk.format("POST", "/api/v1/auth/token/1/", headers,
      '{"username":"' .. user .. '","password":"' .. password .. '"}')
end

delay = function()
   return pause
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
