-- wrk's summary as one machine-readable line for bench/wrk.ts (wrk -s bench/wrk-report.lua).
-- errors.status counts replies with a status above 399, which wrk.ts excludes from throughput;
-- cpuTicks is wrk's own utime+stime (all its threads) from /proc/self/stat, so a benchmark can
-- show that the load generator was not what limited the run.

local function own_cpu_ticks()
  local file = io.open("/proc/self/stat", "r")
  if not file then return -1 end
  local line = file:read("*l")
  file:close()
  -- Fields after "(comm) ": state is the 1st, utime the 12th, stime the 13th.
  local rest = line:match("%) (.*)$")
  local fields = {}
  for value in rest:gmatch("%S+") do fields[#fields + 1] = value end
  return tonumber(fields[12]) + tonumber(fields[13])
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_REPORT {"durationUs":%d,"requests":%d,"bytes":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"latencyUs":{"p50":%d,"p90":%d,"p99":%d,"max":%d,"mean":%.1f},"cpuTicks":%d}\n',
    summary.duration, summary.requests, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean,
    own_cpu_ticks()))
end
