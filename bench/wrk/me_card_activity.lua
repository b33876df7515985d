-- `me` with card and activity (the app's home screen) on the member door.
dofile((debug.getinfo(1, "S").source:sub(2):match("(.*/)") or "./") .. "common.lua")
bench.marker = '"balanceAfter"'
local body = '{"query": "{ me { phone card { number } balance { available pending lifetime } '
   .. 'activity(first: 10) { edges { node { kind points balanceAfter } } } } }"}'

function request()
   wrk.headers["Authorization"] = "Bearer " .. bench.any_item()
   return wrk.format(nil, "/graphql", nil, body)
end
