-- (e) the integration dialect's POST /auth with consumer key and secret key.
require "report"

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"consumer_key":"' .. os.getenv("BENCH_CONSUMER_KEY") ..
   '","secret_key":"' .. os.getenv("BENCH_SECRET_KEY") .. '"}'
wrk.path = "/auth"
