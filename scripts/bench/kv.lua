-- dht-node's REST API: PUT /d/keyN with the value as body, GET /d/keyN.
-- Env as in common.lua; BENCH_CONSISTENCY (e.g. one) adds ?consistency= to every request.
package.path = package.path .. ";" .. (os.getenv("BENCH_DIR") or ".") .. "/?.lua"
require "common"
local query = os.getenv("BENCH_CONSISTENCY") and ("?consistency=" .. os.getenv("BENCH_CONSISTENCY")) or ""
local headers = { ["Content-Type"] = "application/octet-stream" }

function init(args) seed() end

function request()
  local i = pick_key()
  if not i then return wrk.format("GET", PRELOAD_FILLER) end
  local path = "/d/key" .. i .. query
  if is_read() then
    return wrk.format("GET", path)
  end
  return wrk.format("PUT", path, headers, VALUE)
end

if PRELOAD then
  function response(status, headers, body) preload_done(status) end
end
