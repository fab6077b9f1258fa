-- etcd's v3 JSON gateway: POST /v3/kv/put and POST /v3/kv/range (linearizable reads, etcd's
-- default; BENCH_SERIALIZABLE=1 reads from the local member instead). Env as in common.lua.
package.path = package.path .. ";" .. (os.getenv("BENCH_DIR") or ".") .. "/?.lua"
require "common"
local serializable = os.getenv("BENCH_SERIALIZABLE") == "1"
local headers = { ["Content-Type"] = "application/json" }
local keys, value = {}, nil

function init(args)
  seed()
  value = base64(VALUE)
  for i = 1, NKEYS do keys[i] = base64("key" .. i) end
end

function request()
  local i = pick_key()
  if not i then return wrk.format("GET", PRELOAD_FILLER) end
  local k = keys[i]
  if is_read() then
    local extra = serializable and ',"serializable":true' or ""
    return wrk.format("POST", "/v3/kv/range", headers, '{"key":"' .. k .. '"' .. extra .. '}')
  end
  return wrk.format("POST", "/v3/kv/put", headers, '{"key":"' .. k .. '","value":"' .. value .. '"}')
end

if PRELOAD then
  function response(status, headers, body) preload_done(status) end
end
