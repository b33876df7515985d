-- `redeemVoucher` on the partner door: every request redeems its own voucher (pre-issued
-- by bench/run.py, dealt out to threads by index), against a new till receipt id.
dofile((debug.getinfo(1, "S").source:sub(2):match("(.*/)") or "./") .. "common.lua")
bench.marker = '"VoucherRedeemed"'
local query = 'mutation($code: String!, $receipt: String!) { redeemVoucher(code: $code, '
   .. 'receiptId: $receipt) { __typename ... on VoucherRedeemed { receiptId redeemedAt '
   .. 'voucher { code status value { amount currency } } } ... on Error { code message } } }'
local last = nil

function request()
   local code = bench.next_item() or last  -- used up: the repeat fails (counted)
   last = code
   local body = '{"query": ' .. bench.json_string(query) .. ', "variables": {"code": "'
      .. code .. '", "receipt": "' .. tag .. "-" .. code .. '"}}'
   return wrk.format(nil, "/partner/graphql", nil, body)
end
