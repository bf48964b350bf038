-- (b) GET /api/v1/me with a valid access token (BENCH_ACCESS).
require "report"

wrk.method = "GET"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_ACCESS")
