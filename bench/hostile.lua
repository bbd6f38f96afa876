-- wrk script: the article page, with every `every`-th request a hostile one.
-- usage: wrk -s bench/hostile.lua <url> -- <page-template.json> <slugs.txt> <hostile.jsonl> <every>
-- The hostile bodies (one JSON body a line) are sent in turn. A response counts as
-- a good request's error when it is a 5xx, 408 or 429, or carries an error whose
-- code is not one a hostile request is refused with (BAD_USER_INPUT,
-- QUERY_TOO_COMPLEX, TOO_MANY_*): the article pages asked for all exist.
local threads = {}
local next_id = 0

function setup(thread)
  thread:set("tid", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

local pages, hostile = {}, {}
local page_i, hostile_i, sent = 0, 0, 0
good_errors, refused, server_errors, answers = 0, 0, 0, 0

function init(args)
  local headers = { ["Content-Type"] = "application/json" }
  local f = assert(io.open(args[1], "r"))
  local tmpl = f:read("*a")
  f:close()
  for slug in io.lines(args[2]) do
    pages[#pages + 1] = wrk.format("POST", nil, headers, (tmpl:gsub("__SLUG__", slug)))
  end
  for body in io.lines(args[3]) do
    hostile[#hostile + 1] = wrk.format("POST", nil, headers, body)
  end
  every = tonumber(args[4])
  page_i = (tid * 7919) % #pages
end

function request()
  sent = sent + 1
  if sent % every == 0 then
    hostile_i = hostile_i % #hostile + 1
    return hostile[hostile_i]
  end
  page_i = page_i % #pages + 1
  return pages[page_i]
end

function response(status, headers, body)
  answers = answers + 1
  if status >= 500 then
    server_errors = server_errors + 1
  end
  if status >= 500 or status == 408 or status == 429 then
    good_errors = good_errors + 1
  elseif body:find('"errors"', 1, true) then
    if body:find('"code":"BAD_USER_INPUT"', 1, true) or body:find('"code":"QUERY_TOO_COMPLEX"', 1, true)
        or body:find('"code":"TOO_MANY_', 1, true) then
      refused = refused + 1
    else
      good_errors = good_errors + 1
    end
  end
end

function done(summary, latency, requests)
  local g, r, s, a = 0, 0, 0, 0
  for _, t in ipairs(threads) do
    g = g + t:get("good_errors")
    r = r + t:get("refused")
    s = s + t:get("server_errors")
    a = a + t:get("answers")
  end
  local e = summary.errors
  io.write(string.format(
    'RESULT {"requests":%d,"rps":%.1f,"p50_ms":%.2f,"p99_ms":%.2f,"hostile_refused":%d,' ..
    '"good_errors":%d,"5xx":%d,"socket_errors":%d,"timeouts":%d}\n',
    a, summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, r, g, s, e.connect + e.read + e.write, e.timeout))
end
