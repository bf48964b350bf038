-- Shared by every scenario: collects the wrk threads and, when the run is done, prints one line
-- "BENCHJSON {...}" that bench/run parses. Latencies are in microseconds.
--
-- A scenario that defines its own setup() must call report_thread(thread) from it. A scenario
-- that counts things per thread keeps them in globals and lists their names in report_counters.

local threads = {}
report_counters = report_counters or {}

function report_thread(thread)
   table.insert(threads, thread)
end

setup = function(thread)
   report_thread(thread)
end

local function sum(name)
   local total = 0
   for _, thread in ipairs(threads) do
      total = total + (tonumber(thread:get(name)) or 0)
   end
   return total
end

done = function(summary, latency, requests)
   local e = summary.errors
   local extra = {}
   for _, name in ipairs(report_counters) do
      table.insert(extra, string.format('"%s":%d', name, sum(name)))
   end
   io.write(string.format(
      'BENCHJSON {"requests":%d,"duration_us":%d,"bytes":%d,' ..
      '"errors_connect":%d,"errors_read":%d,"errors_write":%d,"errors_status":%d,"errors_timeout":%d,' ..
      '"lat_p50_us":%d,"lat_p90_us":%d,"lat_p99_us":%d,"lat_max_us":%d,"lat_mean_us":%.1f,"counters":{%s}}\n',
      summary.requests, summary.duration, summary.bytes,
      e.connect, e.read, e.write, e.status, e.timeout,
      latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean,
      table.concat(extra, ",")))
end
