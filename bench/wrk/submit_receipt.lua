-- `submitReceipt` with 3 lines on the partner door: a new receipt id every request
-- (tag-thread-counter), the member by card number, round robin over the pool's cards.
-- Lines: a Spar-brand line (200 %), a plain one, a tobacco one (excluded).
dofile((debug.getinfo(1, "S").source:sub(2):match("(.*/)") or "./") .. "common.lua")
bench.marker = '"ReceiptAccepted"'
local query = 'mutation($input: ReceiptInput!) { submitReceipt(input: $input) { __typename '
   .. '... on ReceiptAccepted { pointsEarned balance breakdown { kind points } } '
   .. '... on Error { code message } } }'
local lines = '[{"sku": "4000001", "name": "Spar olive oil 1 l", "brand": "Spar", '
   .. '"category": "food", "quantity": "2", "unitPrice": 45000, "amount": 90000}, '
   .. '{"sku": "4000002", "name": "Coffee 500 g", "brand": "Lavazza", "category": "food", '
   .. '"quantity": "1", "unitPrice": 120000, "amount": 120000}, '
   .. '{"sku": "4000003", "name": "Cigarettes", "brand": null, "category": "tobacco", '
   .. '"quantity": "1", "unitPrice": 30000, "amount": 30000}]'

function request()
   local body = '{"query": ' .. bench.json_string(query) .. ', "variables": {"input": {'
      .. '"receiptId": "' .. bench.sequence() .. '", "issuedAt": "' .. extra .. '", '
      .. '"currency": "ALL", "total": 240000, "cashierId": "c-7", '
      .. '"cardNumber": "' .. bench.any_item() .. '", "lines": ' .. lines .. '}}}'
   return wrk.format(nil, "/partner/graphql", nil, body)
end
