-- wrk script of bench/intake.py: POST /v1/tickets with varied bodies, a fresh Idempotency-Key
-- per request, the statuses of the answers counted, and (open loop) paced sends timed in Lua.
--
-- Configured by the environment (bench/intake.py sets it):
--   INTAKE_BODIES   prefix of the bodies' files: thread k of T reads "<prefix>-<T>-<k>.tsv",
--                   one body a line: "<number>\t<external_id or empty>\t<JSON without it>"
--   INTAKE_KEY      the agent's API key (the ceiling ignores it)
--   INTAKE_PHASE    a tag unique to this wrk run (Idempotency-Keys and external_ids carry it)
--   INTAKE_THREADS  wrk's -t (bench/intake.py writes thread k of T the bodies numbered k mod T)
--   INTAKE_RATE     open loop: requests/s offered in all; unset: closed loop
--   INTAKE_START    open loop: CLOCK_MONOTONIC second at which the schedules begin (wrk starts
--                   its threads one by one, each reading the bodies first)
--   INTAKE_OUT      where done() writes its JSON
--
-- Closed loop (no INTAKE_RATE): every connection sends its next request when the previous is
-- answered; latency is wrk's own (with its coordinated-omission correction, see stats.c).
--
-- Open loop (INTAKE_RATE): run with one connection per thread (-t C -c C). Each connection has
-- its own schedule, C/rate seconds apart on average, each gap uniform in [0.5, 1.5] times that;
-- delay() holds the connection until its next slot. A request's latency is taken in Lua from
-- its slot (not from when it was written) to its answer, so a server that answers late is not
-- excused by the sends it delayed (coordinated omission); sends that left after their slot
-- are counted as late, with the largest lag.

local ffi = require("ffi")
ffi.cdef([[
typedef struct { long tv_sec; long tv_nsec; } intake_timespec;
int clock_gettime(int clk_id, intake_timespec *tp);
]])
local timespec = ffi.new("intake_timespec")
local CLOCK_MONOTONIC = 1

local function now()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, timespec)
  return tonumber(timespec.tv_sec) + tonumber(timespec.tv_nsec) * 1e-9
end

local BODIES = os.getenv("INTAKE_BODIES")
local KEY = os.getenv("INTAKE_KEY") or "none"
local PHASE = os.getenv("INTAKE_PHASE") or "run"
local THREADS = tonumber(os.getenv("INTAKE_THREADS") or "1")
local RATE = tonumber(os.getenv("INTAKE_RATE") or "")
local START = tonumber(os.getenv("INTAKE_START") or "")
local OUT = os.getenv("INTAKE_OUT")

-- The main state: every thread, for done().
local threads = {}

function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

-- Each thread's own state (wrk gives every thread its own Lua state). The globals are what
-- done() reads from each thread with thread:get.
local bodies, externals, numbers = {}, {}, {}
local interval, next_at, slot
sent = 0 -- requests made by this thread (thread 0 also makes wrk's one check request)
statuses = {} -- status -> count
problems = {} -- "status code" of the non-2xx answers -> count
latencies = {} -- open loop: ms from the slot to the answer
late, max_lag = 0, 0
replayed = 0 -- answers with Idempotent-Replayed: true (a fresh key must never replay)
first_slot, last_answer = 0, 0 -- open loop: the span the answers came in
local headers = { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. KEY }

function init(args)
  local me = tid or 0
  math.randomseed(os.time() * 1000 + me * 7919 + math.floor(now() * 1e6) % 100000)
  local path = string.format("%s-%d-%d.tsv", tostring(BODIES), THREADS, me)
  for line in io.lines(path) do
    local number, external, body = line:match("^(%d+)\t([^\t]*)\t(.*)$")
    bodies[#bodies + 1] = body
    externals[#externals + 1] = external
    numbers[#numbers + 1] = tonumber(number)
  end
  if #bodies == 0 then
    error("no bodies in " .. path)
  end
  if RATE then
    interval = THREADS / RATE -- one connection per thread
    -- The connections start together, spread over one gap.
    next_at = math.max(START or 0, now()) + math.random() * interval
    first_slot = next_at
  end
end

function request()
  local k = sent % #bodies + 1
  local body = bodies[k]
  local external = externals[k]
  if external ~= "" then
    -- Unique per request: a body sent again must not replay its ticket.
    body = body:sub(1, -2) .. ',"external_id":"' .. external .. "-" .. PHASE .. "." .. tid .. "." .. sent .. '"}'
  end
  headers["Idempotency-Key"] =
    string.format("%s-%d-%d-b%d-%06x", PHASE, tid, sent, numbers[k], math.random(0, 0xffffff))
  sent = sent + 1
  if RATE then
    slot = next_at
    local lag = now() - slot
    if lag > 0.002 then
      late = late + 1
    end
    if lag > max_lag then
      max_lag = lag
    end
    next_at = next_at + interval * (0.5 + math.random())
  end
  return wrk.format("POST", "/v1/tickets", headers, body)
end

if RATE then
  function delay()
    local wait = (next_at - now()) * 1000
    if wait < 0 then
      return 0
    end
    return wait
  end
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  if status < 200 or status > 299 then
    -- The problem's code ("unavailable", "conflict" …), for the error kinds.
    local code = body:match('"code"%s*:%s*"([^"]*)"') or ""
    local kind = status .. " " .. code
    problems[kind] = (problems[kind] or 0) + 1
  end
  if (headers["idempotent-replayed"] or headers["Idempotent-Replayed"]) == "true" then
    replayed = replayed + 1
  end
  if slot then
    last_answer = now()
    latencies[#latencies + 1] = (last_answer - slot) * 1000
    slot = nil
  end
end

local function number(x)
  if x ~= x or x == math.huge or x == -math.huge then
    return "null"
  end
  return string.format("%.3f", x)
end

function done(summary, latency, _)
  local all, codes, kinds = {}, {}, {}
  local made, lates, lag, replays = 0, 0, 0, 0
  local span_from, span_to = math.huge, 0
  for _, thread in ipairs(threads) do
    for code, count in pairs(thread:get("statuses")) do
      codes[code] = (codes[code] or 0) + count
    end
    for kind, count in pairs(thread:get("problems")) do
      kinds[kind] = (kinds[kind] or 0) + count
    end
    for _, ms in ipairs(thread:get("latencies")) do
      all[#all + 1] = number(ms)
    end
    made = made + thread:get("sent")
    lates = lates + thread:get("late")
    lag = math.max(lag, thread:get("max_lag"))
    replays = replays + thread:get("replayed")
    if thread:get("last_answer") > 0 then
      span_from = math.min(span_from, thread:get("first_slot"))
      span_to = math.max(span_to, thread:get("last_answer"))
    end
  end
  local status_parts = {}
  for code, count in pairs(codes) do
    status_parts[#status_parts + 1] = string.format('"%d":%d', code, count)
  end
  local kind_parts = {}
  for kind, count in pairs(kinds) do
    kind_parts[#kind_parts + 1] = string.format('"%s":%d', (kind:gsub('[%c"\\]', "?")), count)
  end
  local e = summary.errors
  local f = assert(io.open(OUT, "w"))
  f:write(string.format('{"duration_us":%d,"requests":%d,"bytes":%d', summary.duration, summary.requests, summary.bytes))
  f:write(string.format(',"socket_errors":{"connect":%d,"read":%d,"write":%d,"timeout":%d}', e.connect, e.read, e.write, e.timeout))
  f:write(string.format(',"wrk_status_errors":%d', e.status))
  f:write(',"wrk_latency_ms":{"p50":' .. number(latency:percentile(50) / 1000))
  f:write(',"p99":' .. number(latency:percentile(99) / 1000))
  f:write(',"max":' .. number(latency.max / 1000) .. ',"mean":' .. number(latency.mean / 1000) .. "}")
  f:write(',"statuses":{' .. table.concat(status_parts, ",") .. "}")
  f:write(',"problems":{' .. table.concat(kind_parts, ",") .. "}")
  f:write(string.format(',"sent":%d,"late":%d,"max_lag_ms":%s', made, lates, number(lag * 1000)))
  f:write(string.format(',"replayed":%d,"open_span_s":%s', replays, number(span_to - span_from)))
  f:write(',"latencies_ms":[' .. table.concat(all, ",") .. "]}\n")
  f:close()
end
