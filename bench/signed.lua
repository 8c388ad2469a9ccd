-- wrk script for bench/intake: every request POSTs the next unique, pre-signed webhook.
--
-- Environment: BENCH_FILE (lines of `<hex signature> <body>` from gen_payloads.py),
-- BENCH_THREADS (wrk's -t), BENCH_LABEL (for messages).
-- Each wrk thread has its own Lua state: setup() (main state) numbers the threads, init() (thread
-- state) loads only lines n with n % BENCH_THREADS == id, so threads never send the same body.
-- If a thread runs out it wraps around (Herald answers repeats 200 "duplicate") and says so.

local threads = {}

function setup(thread)
   thread:set("id", #threads)
   table.insert(threads, thread)
end

local sigs, bodies, next_index = {}, {}, 0
responses, non2xx, duplicates, wrapped, statuses = 0, 0, 0, 0, {}

function init(args)
   local file = assert(os.getenv("BENCH_FILE"), "BENCH_FILE not set")
   local nthreads = assert(tonumber(os.getenv("BENCH_THREADS")), "BENCH_THREADS not set")
   local n = 0
   for line in io.lines(file) do
      if n % nthreads == id then
         local space = line:find(" ", 1, true)
         sigs[#sigs + 1] = line:sub(1, space - 1)
         bodies[#bodies + 1] = line:sub(space + 1)
      end
      n = n + 1
   end
   assert(#bodies > 0, "no payloads for thread " .. id .. " in " .. file)
end

function request()
   next_index = next_index + 1
   if next_index > #bodies then
      next_index, wrapped = 1, wrapped + 1
   end
   return wrk.format("POST", nil, {
      ["Content-Type"] = "application/json",
      ["X-Webhook-Signature"] = sigs[next_index],
   }, bodies[next_index])
end

function response(status, headers, body)
   responses = responses + 1
   if status < 200 or status > 299 then
      non2xx = non2xx + 1
      statuses[status] = (statuses[status] or 0) + 1
   elseif body:find('"duplicate"', 1, true) then
      duplicates = duplicates + 1
   end
end

function done(summary, latency, requests)
   local label = os.getenv("BENCH_LABEL") or "run"
   local total = { responses = 0, non2xx = 0, duplicates = 0, wrapped = 0 }
   local by_status = {}
   for _, thread in ipairs(threads) do
      for key in pairs(total) do total[key] = total[key] + thread:get(key) end
      for status, count in pairs(thread:get("statuses")) do
         by_status[status] = (by_status[status] or 0) + count
      end
   end
   local detail = {}
   for status, count in pairs(by_status) do detail[#detail + 1] = status .. "x" .. count end
   if total.wrapped > 0 then
      io.write(string.format("WARNING [%s]: payloads ran out and wrapped around %d time(s); "
         .. "repeated bodies are duplicates for Herald, not new events\n", label, total.wrapped))
   end
   if total.non2xx > 0 then
      io.write(string.format("ERROR [%s]: %d non-2xx responses (%s)\n",
         label, total.non2xx, table.concat(detail, ", ")))
   end
   local e = summary.errors
   io.write(string.format("BENCH responses=%d ok=%d non2xx=%d duplicates=%d wrapped=%d "
      .. "socket_errors=%d statuses=%s\n",
      total.responses, total.responses - total.non2xx, total.non2xx, total.duplicates, total.wrapped,
      e.connect + e.read + e.write + e.timeout, #detail > 0 and table.concat(detail, ",") or "-"))
end
