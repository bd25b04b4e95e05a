-- One route under load. The request comes from the environment (set by bench/load.py):
--   BENCH_PATH, BENCH_BODY (JSON), BENCH_TOKEN, and BENCH_UNIQUE=1 to make every body unique:
--   "__N__" in the body becomes BENCH_PREFIX-counter (creates: names never repeat), and
--   "__ID__" becomes the next line of BENCH_IDS_FILE (updates and deletes: each request its own
--   existing code; past the last line it starts over, which bench/load.py reports).
-- done() prints one JSON line with throughput, latency percentiles and non-2xx counts.
local path = os.getenv("BENCH_PATH")
local body = os.getenv("BENCH_BODY") or "{}"
local unique = os.getenv("BENCH_UNIQUE") == "1"
local headers = {
  ["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN"),
  ["Content-Type"] = "application/json",
}
local fixed = nil -- built on first use: wrk.format needs the Host header set at start-up
local counter = 0
local prefix = os.getenv("BENCH_PREFIX") or "run"
local ids = {}
local ids_file = os.getenv("BENCH_IDS_FILE")
if ids_file and ids_file ~= "" then
  for line in io.lines(ids_file) do ids[#ids + 1] = line end
end

request = function()
  if not unique then
    fixed = fixed or wrk.format("POST", path, headers, body)
    return fixed
  end
  counter = counter + 1
  local text = body:gsub("__N__", prefix .. "-" .. counter)
  if #ids > 0 then
    text = text:gsub("__ID__", ids[(counter - 1) % #ids + 1])
  end
  return wrk.format("POST", path, headers, text)
end

done = function(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "bytes": %d, "non_2xx": %d, ' ..
    '"socket_errors": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d}\n',
    summary.requests, summary.duration, summary.bytes, errors.status,
    errors.connect + errors.read + errors.write + errors.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
