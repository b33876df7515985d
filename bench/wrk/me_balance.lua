-- `me { balance }` on the member door, a different member's token each request.
dofile((debug.getinfo(1, "S").source:sub(2):match("(.*/)") or "./") .. "common.lua")
bench.marker = '"available"'
local body = '{"query": "{ me { balance { available } } }"}'

function request()
   wrk.headers["Authorization"] = "Bearer " .. bench.any_item()
   return wrk.format(nil, "/graphql", nil, body)
end
