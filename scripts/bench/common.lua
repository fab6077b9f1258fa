-- Shared by kv.lua and etcd.lua. One request per call to request(): a key drawn at random from
-- BENCH_KEYS keys ("key1".."keyN"), a value of BENCH_VALUE_BYTES bytes, a read with probability
-- BENCH_READ_RATIO (0 = writes only, 1 = reads only). With BENCH_PRELOAD=1 the keys are walked in
-- order instead, and the thread stops once every key has been answered once (see preload_done).
NKEYS = tonumber(os.getenv("BENCH_KEYS") or "10000")
VBYTES = tonumber(os.getenv("BENCH_VALUE_BYTES") or "100")
READ_RATIO = tonumber(os.getenv("BENCH_READ_RATIO") or "0.5")
PRELOAD = os.getenv("BENCH_PRELOAD") == "1"
VALUE = string.rep("v", VBYTES)

local next_key = 0
-- the index of the key for the next request
function pick_key()
  if PRELOAD then
    next_key = next_key % NKEYS + 1
    return next_key
  end
  return math.random(NKEYS)
end

function is_read()
  return not PRELOAD and math.random() < READ_RATIO
end

-- Preload: count answers and end the process once NKEYS have come back (run it with one
-- thread, so this thread owns every key). wrk.thread:stop() would only stop sending: wrk would
-- still sleep out its whole -d before exiting. So print the tally here and exit.
local answered, failed = 0, 0
function preload_done(status)
  answered = answered + 1
  if status < 200 or status > 299 then failed = failed + 1 end
  if answered >= NKEYS then
    io.write(string.format("preload: %d answered, %d failed\n", answered, failed))
    io.flush()
    os.exit(0)
  end
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
