-- wrk script: POST comment forms, each request with its own one-time form token.
--
--   wrk -t2 -c32 -d15s -s bench/wrk/post_comment.lua http://127.0.0.1:PORT -- REQUESTS_FILE THREADS [RECEIPTS_PREFIX]
--
-- REQUESTS_FILE (written by bench/scale.py) has one request a line: path <TAB> cookie <TAB> form body
-- (URL-encoded: csrf bound to the cookie's sid, a one-time form_token minted with the instance's key,
-- kind, body, suggestion...). Thread k of THREADS takes lines k, k+THREADS, ...; if a thread runs out
-- it starts over (the app then answers with the first comment: "reused" in the summary counts these).
-- Each 303 acknowledgement's receipt code (or "ok CODE" from the floor server) is appended to
-- RECEIPTS_PREFIX.<thread>. done() prints one line "WRKJSON {...}" with latency percentiles (µs),
-- status counts and socket errors.

local threads = {}
local counter = 0

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  local file, nthreads, prefix = args[1], tonumber(args[2]), args[3]
  lines = {}
  local i = 0
  for line in io.lines(file) do
    if i % nthreads == id then
      local path, cookie, body = line:match("^([^\t]*)\t([^\t]*)\t(.*)$")
      -- an optional 4th field: the visitor's address, sent as X-Forwarded-For (bench/public_page.py)
      local b, forwarded = body:match("^([^\t]*)\t(.*)$")
      if b then body = b end
      lines[#lines + 1] = {path, cookie, body, forwarded}
    end
    i = i + 1
  end
  n = 0
  reused = 0
  statuses = {}
  out = prefix and io.open(prefix .. "." .. id, "w") or nil
end

function request()
  n = n + 1
  if n > #lines then
    n = 1
    reused = reused + #lines
  end
  local l = lines[n]
  local headers = {["Content-Type"] = "application/x-www-form-urlencoded", ["Cookie"] = l[2]}
  if l[4] then headers["X-Forwarded-For"] = l[4] end
  return wrk.format("POST", l[1], headers, l[3])
end

function response(status, headers, body)
  local key = tostring(status)
  statuses[key] = (statuses[key] or 0) + 1
  if out then
    local code = nil
    if status == 303 then
      local location = headers["location"] or headers["Location"] or ""
      code = location:match("receipt=([%w]+)")
    elseif status == 200 and body then
      code = body:match("^ok (%w+)")
    end
    if code then
      out:write(code, "\n")
      out:flush()
    end
  end
end

function done(summary, latency, requests)
  local parts = {}
  local merged = {}
  local reuse = 0
  for _, t in ipairs(threads) do
    local s = t:get("statuses")
    if s then for k, v in pairs(s) do merged[k] = (merged[k] or 0) + v end end
    reuse = reuse + (t:get("reused") or 0)
  end
  for k, v in pairs(merged) do parts[#parts + 1] = string.format('"%s": %d', k, v) end
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests": %d, "duration_us": %d, "bytes": %d, "p50": %d, "p90": %d, "p99": %d, "p999": %d, ' ..
    '"max": %d, "mean": %.1f, "errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, ' ..
    '"statuses": {%s}, "reused": %d}\n',
    summary.requests, summary.duration, summary.bytes, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency:percentile(99.9), latency.max, latency.mean,
    e.connect, e.read, e.write, e.status, e.timeout, table.concat(parts, ", "), reuse))
end
