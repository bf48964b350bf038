-- (e) OAuth 2 client credentials, client_secret_basic: POST BENCH_PATH (Porteiro's /oauth/token,
-- oidc-provider's /token) with BENCH_BASIC (base64 of id:secret).
require "report"

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Authorization"] = "Basic " .. os.getenv("BENCH_BASIC")
wrk.body = "grant_type=client_credentials&scope=documents%3Aread"
wrk.path = os.getenv("BENCH_PATH")
