-- (f) RFC 7662 introspection of an active access token (BENCH_TOKEN), client_secret_basic:
-- POST BENCH_PATH (Porteiro's /oauth/introspect, oidc-provider's /token/introspection).
require "report"

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Authorization"] = "Basic " .. os.getenv("BENCH_BASIC")
wrk.body = "token=" .. os.getenv("BENCH_TOKEN")
wrk.path = os.getenv("BENCH_PATH")
