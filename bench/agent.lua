-- wrk script for the agent API. Environment:
--   ENDPOINT     status | backups | connect
--   TOKENS_FILE  one Bearer token per line (status, backups)
--   IDS_FILE     one SecureCloud ID per line (connect), with PASSWORD
--   TOKENS_OUT   connect: file that receives the tokens handed out
-- Each thread starts at its own place in the list and walks it, so requests spread
-- over many clients. done() prints one JSON line with req/s, p50, p99 and statuses.

local threads = {}
endpoint = os.getenv("ENDPOINT") or "status"

function setup(thread)
  table.insert(threads, thread)
  thread:set("id", #threads)
end

local function read_lines(path)
  local lines = {}
  for line in io.lines(path) do
    if #line > 0 then table.insert(lines, line) end
  end
  return lines
end

function init(args)
  if endpoint == "connect" then
    items = read_lines(os.getenv("IDS_FILE"))
    password = os.getenv("PASSWORD")
  else
    items = read_lines(os.getenv("TOKENS_FILE"))
  end
  -- threads start far apart in the list (WRK_THREADS: how many there are)
  counter = math.floor((id - 1) * #items / tonumber(os.getenv("WRK_THREADS") or "2"))
  statuses = {}
  tokens = {}
  math.randomseed(id * 7919 + os.time())
end

function request()
  counter = counter + 1
  local item = items[(counter % #items) + 1]
  if endpoint == "connect" then
    local body = string.format(
      '{"securecloud_id":"%s","password":"%s","agent_version":"bench","hostname":"bench"}',
      item, password)
    return wrk.format("POST", "/api/v1/agent/connect",
      {["Content-Type"] = "application/json"}, body)
  end
  local headers = {["Authorization"] = "Bearer " .. item}
  if endpoint == "status" then
    return wrk.format("GET", "/api/v1/agent/status", headers)
  end
  headers["Content-Type"] = "application/json"
  -- A backup that just ended, a different time on every report (as real ones are), so
  -- the client row's indexed last_success_at changes each time.
  local second = os.date("!%Y-%m-%dT%H:%M:%S")
  local body = string.format(
    '{"started_at":"%s+00:00","finished_at":"%s.%06d+00:00","status":"success",' ..
    '"used_bytes":%d,"files":%d}',
    second, second, counter % 1000000, math.random(1000000, 1000000000),
    math.random(100, 10000))
  return wrk.format("POST", "/api/v1/agent/backups", headers, body)
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  if endpoint == "connect" then
    local token = string.match(body, '"token": *"([^"]+)"')
    if token then table.insert(tokens, token) end
  end
end

function done(summary, latency, requests)
  local counts = {}
  local out = os.getenv("TOKENS_OUT")
  local file = nil
  if out and endpoint == "connect" then file = io.open(out, "w") end
  for _, thread in ipairs(threads) do
    for code, n in pairs(thread:get("statuses")) do
      counts[code] = (counts[code] or 0) + n
    end
    if file then
      for _, token in ipairs(thread:get("tokens")) do file:write(token, "\n") end
    end
  end
  if file then file:close() end
  local parts = {}
  for code, n in pairs(counts) do table.insert(parts, string.format('"%d": %d', code, n)) end
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "seconds": %.3f, "req_per_s": %.1f, "p50_ms": %.2f, "p99_ms": %.2f, ' ..
    '"max_ms": %.2f, "socket_errors": %d, "statuses": {%s}}\n',
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    e.connect + e.read + e.write + e.timeout, table.concat(parts, ", ")))
end
