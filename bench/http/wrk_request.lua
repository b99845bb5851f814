-- The request wrk sends, for bench/http/side_by_side_http.sh:
--   wrk ... -s bench/http/wrk_request.lua URL -- DEPTH METHOD PATH BODY_FILE [HEADER ...]
-- DEPTH requests are written back to back on each connection (HTTP/1.1 pipelining; 1: one in
-- flight per connection); BODY_FILE "-" sends no body; each HEADER is "Name: value".
local batch

function init(args)
  local depth = tonumber(args[1])
  local headers = {}
  for i = 5, #args do
    local name, value = args[i]:match("^([^:]+):%s*(.*)$")
    headers[name] = value
  end
  local body
  if args[4] ~= "-" then
    local file = assert(io.open(args[4], "rb"))
    body = file:read("*a")
    file:close()
  end
  local one = wrk.format(args[2], args[3], headers, body)
  batch = string.rep(one, depth)
end

function request()
  return batch
end
