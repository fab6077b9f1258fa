-- Shared by kv.lua and etcd.lua. One request per call to request(): a key drawn at random from
-- BENCH_KEYS keys ("key1".."keyN"), a value of BENCH_VALUE_BYTES bytes, a read with probability
-- BENCH_READ_RATIO (0 = writes only, 1 = reads only). With BENCH_PRELOAD=1 the keys are walked in
-- order instead, each written exactly once, and the process ends once every one of those writes
-- has been answered (see preload_done).
NKEYS = tonumber(os.getenv("BENCH_KEYS") or "10000")
VBYTES = tonumber(os.getenv("BENCH_VALUE_BYTES") or "100")
READ_RATIO = tonumber(os.getenv("BENCH_READ_RATIO") or "0.5")
PRELOAD = os.getenv("BENCH_PRELOAD") == "1"
VALUE = string.rep("v", VBYTES)

local next_key, calls = 0, 0
-- the index of the key for the next request; in a preload, nil once every key has been sent
function pick_key()
  if PRELOAD then
    -- wrk calls request() once on thread 1's state before the run and throws the request away
    -- (to count pipelined requests): spend that first call on a filler, not on a key
    calls = calls + 1
    if calls == 1 or next_key >= NKEYS then return nil end
    next_key = next_key + 1
    return next_key
  end
  return math.random(NKEYS)
end

-- What a preload sends when it has no key to send (wrk wants a request from each free
-- connection): a path neither system serves, so its 404 tells preload_done it is not a write.
PRELOAD_FILLER = "/bench-preload-done"

function is_read()
  return not PRELOAD and math.random() < READ_RATIO
end

-- Preload: count the answers to the NKEYS writes (a 404 is a filler's: no write gets one) and
-- end the process once all have come back (run it with one thread, so this thread owns every
-- key). wrk.thread:stop() would only stop sending: wrk would still sleep out its whole -d
-- before exiting. So print the tally here and exit; bench.sh checks that every write got a 2xx.
-- A write that gets no answer at all (wrk's --timeout closes its connection) is never counted:
-- once every key is out and no write has been answered for UNANSWERED_SECS, report and give up.
local UNANSWERED_SECS = 30
local answered, ok, last_answer = 0, 0, os.time()
local function report(code)
  io.write(string.format("preload: %d answered, %d 2xx, %d failed, %d unanswered\n",
    answered, ok, answered - ok, NKEYS - answered))
  io.flush()
  os.exit(code)
end
function preload_done(status)
  if status == 404 then
    if next_key >= NKEYS and os.time() - last_answer > UNANSWERED_SECS then report(1) end
    return
  end
  answered = answered + 1
  last_answer = os.time()
  if status >= 200 and status <= 299 then ok = ok + 1 end
  if answered >= NKEYS then report(0) end
end

-- standard base64, for etcd's JSON gateway (keys and values are bytes there)
local alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
function base64(s)
  local out = {}
  for i = 1, #s, 3 do
    local a, b, c = s:byte(i, i + 2)
    local n = a * 65536 + (b or 0) * 256 + (c or 0)
    local k = {}
    for j = 3, 0, -1 do
      local v = math.floor(n / 64 ^ j) % 64
      k[#k + 1] = alphabet:sub(v + 1, v + 1)
    end
    if not b then k[3], k[4] = "=", "=" elseif not c then k[4] = "=" end
    out[#out + 1] = table.concat(k)
  end
  return table.concat(out)
end

function seed()
  math.randomseed(os.time() * 1000 + math.floor(os.clock() * 1e6) + math.random(1e6))
end
