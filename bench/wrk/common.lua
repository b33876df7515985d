-- Shared by every bench/wrk/*.lua script (loaded with dofile by each).
-- Arguments after `--` (bench/run.py passes them):
--   1 data file: one item per line (member access tokens, card numbers or voucher codes)
--   2 partner API key, or "-" for the member door (then the items are bearer tokens)
--   3 tag: makes receipt ids unique across runs ("h1" for Happy's first round...)
--   4 max: stop each thread after this many responses (0: run for the whole duration)
--   5 threads: wrk's -t (items are dealt out to threads by index)
--   6 extra: the script's own (submit_receipt: the receipt time)
-- Every response is checked for the operation's success marker (`bench.marker`): anything
-- else (an HTTP error, a GraphQL error, an error member of a result union) is a failure.
-- done() prints one line "BENCH_JSON {...}" with the counts and latency percentiles (us).

bench = { marker = nil }

local threads = {}
local counter = 0

function setup(thread)
   thread:set("id", #threads)
   table.insert(threads, thread)
end

function bench.read_items(path)
   local items = {}
   for line in io.lines(path) do
      if #line > 0 then table.insert(items, line) end
   end
   return items
end

function bench.json_string(s)
   return '"' .. s:gsub('[%c"\\]', function(c)
      return string.format("\\u%04x", c:byte())
   end) .. '"'
end

function init(args)
   items = bench.read_items(args[1])
   partner_key = args[2]
   tag = args[3]
   max_responses = tonumber(args[4]) or 0
   thread_count = tonumber(args[5]) or 1
   extra = args[6]
   failures = 0
   responses = 0
   first_failure = ""
   wrk.method = "POST"
   wrk.headers["Content-Type"] = "application/json"
   if partner_key ~= "-" then
      wrk.headers["Authorization"] = "Bearer " .. partner_key
   end
   if bench.init then bench.init() end
end

-- The next item of this thread's share (thread i takes items i, i+T, i+2T...); nil when
-- the share is used up (vouchers: each code is redeemed once).
function bench.next_item()
   local index = id + 1 + counter * thread_count
   counter = counter + 1
   return items[index]
end

-- Round robin over every item (member tokens, card numbers), whatever the thread.
local turn = 0
function bench.any_item()
   turn = turn + 1
   return items[(id + turn * thread_count) % #items + 1]
end

function bench.sequence()
   counter = counter + 1
   return tag .. "-" .. id .. "-" .. counter
end

function response(status, headers, body)
   responses = responses + 1
   if status ~= 200 or not body:find(bench.marker, 1, true) then
      failures = failures + 1
      if first_failure == "" then first_failure = status .. " " .. body:sub(1, 300) end
   end
   if max_responses > 0 and responses >= max_responses then
      wrk.thread:stop()
   end
end

function done(summary, latency, requests)
   local failed = 0
   local first = ""
   for _, thread in ipairs(threads) do
      failed = failed + thread:get("failures")
      if first == "" then first = thread:get("first_failure") end
   end
   local e = summary.errors
   io.write(string.format(
      'BENCH_JSON {"requests": %d, "duration_us": %d, "failures": %d, ' ..
      '"socket_errors": %d, "status_errors": %d, "timeouts": %d, ' ..
      '"p50_us": %d, "p90_us": %d, "p99_us": %d, "mean_us": %.1f, "max_us": %d, ' ..
      '"first_failure": %s}\n',
      summary.requests, summary.duration, failed,
      e.connect + e.read + e.write, e.status, e.timeout,
      latency:percentile(50), latency:percentile(90), latency:percentile(99),
      latency.mean, latency.max, bench.json_string(first)))
end
