-- (d) token-refresh with rotation off: the same refresh token (BENCH_REFRESH) every time.
require "report"

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"refresh":"' .. os.getenv("BENCH_REFRESH") .. '"}'
wrk.path = "/api/v1/auth/token-refresh/"
