-- `me { receipts(first: 50) }` with lines: one page of a member's receipt history (the big
-- database: bench/seed_big.sql gives every pool member more than 50 receipts).
dofile((debug.getinfo(1, "S").source:sub(2):match("(.*/)") or "./") .. "common.lua")
bench.marker = '"endCursor"'
local body = '{"query": "{ me { receipts(first: 50) { edges { node { id receiptId issuedAt '
   .. 'total { amount currency } pointsEarned breakdown { kind rule points } '
   .. 'partner { name } store { name city } '
   .. 'lines { lineNumber sku name brand category quantity unitPrice amount points } } } '
   .. 'pageInfo { hasNextPage endCursor } } } }"}'

function request()
   wrk.headers["Authorization"] = "Bearer " .. bench.any_item()
   return wrk.format(nil, "/graphql", nil, body)
end
