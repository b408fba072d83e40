-- Sends each request with its own Config-Client-Id, cycling over N ids (`wrk … -- N`), as a fleet
-- of N clients would; then prints the same JSON summary as wrk-report.lua.
local ids = 10000
local n = 0

init = function(args)
  if args[1] ~= nil then ids = tonumber(args[1]) end
end

request = function()
  n = n + 1
  wrk.headers["Config-Client-Id"] = "client-" .. (n % ids)
  return wrk.format()
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests":%d,"durationUs":%d,"bytes":%d,"p50":%d,"p90":%d,"p99":%d,"max":%d,"mean":%f,' ..
    '"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d}\n',
    summary.requests, summary.duration, summary.bytes,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean,
    e.connect, e.read, e.write, e.status, e.timeout))
end
