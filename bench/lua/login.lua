-- (c), (h) user login: POST /api/v1/auth/token/1/ with the correct password, cycling over the
-- seeded users (BENCH_USERS, comma-separated; all with BENCH_PASSWORD).
require "report"

local users = {}
for u in string.gmatch(os.getenv("BENCH_USERS"), "[^,]+") do
   table.insert(users, u)
end
local password = os.getenv("BENCH_PASSWORD")
local headers = { ["Content-Type"] = "application/json" }
local i = 0

request = function()
   i = i + 1
   local user = users[(i % #users) + 1]
   return wrk.format("POST", "/api/v1/auth/token/1/", headers,
      '{"username":"' .. user .. '","password":"' .. password .. '"}')
end
