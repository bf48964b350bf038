-- A console page: GET of the URL's path with the console session cookie (BENCH_COOKIE,
-- "name=value").
require "report"

wrk.method = "GET"
wrk.headers["Cookie"] = os.getenv("BENCH_COOKIE")
