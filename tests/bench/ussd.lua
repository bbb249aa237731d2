-- ussd.lua: wrk walks the hotline's USSD menus as an aggregator would call it.
--
--   wrk -t2 -c64 -d10s -s ussd.lua URL -- PATH [INFLIGHT] [SESSIONS] [WALK]
--
-- PATH      the callback path (/ussd/<secret>)
-- INFLIGHT  sessions each wrk thread keeps going at once (default 64; keep
--           it above the connections per thread so that a session's next
--           step is sent after the answer to its previous one)
-- SESSIONS  stop each thread after this many sessions (0: run for -d)
-- WALK      "dial" = every session is one dial only (mem.sh: many sessions);
--           default: each session walks one of the walks below, one step
--           per request: "", "1", "1*2", "1*2*0" ... (text is every input of
--           the session joined by '*', as aggregators send it)
--
-- Every request is a form POST with sessionId (distinct per session),
-- serviceCode, phoneNumber (one per session), networkCode and text. The
-- answers are checked: 200 and a body starting "CON " or "END ".
-- done() prints one line of key=value for the bench scripts.

local walks = {
	{ "1", "2", "98", "0", "3", "00" },   -- 低保 -> 能领多少钱 -> next screen -> back -> 咋申请 -> main
	{ "2", "1", "0", "4", "00" },         -- 特困 -> 谁能办 -> back -> 咋审批 -> main
	{ "3", "3", "98", "0", "1" },         -- 临时救助
	{ "4", "2", "00", "5", "1" },         -- 高龄补贴, then 事实无人抚养儿童
	{ "5", "3", "9", "0", "00" },         -- 无人抚养儿童 -> 咋申请 -> page 2
	{ "1", "1", "9", "00", "7" },         -- 低保 -> 谁能办 -> page 2 -> main -> 办理进度 (the sender's cases)
}

local threads = {}
local nthreads = 0

function setup(thread)
	nthreads = nthreads + 1
	thread:set("tid", nthreads)
	table.insert(threads, thread)
end

local slots, next_slot, limit, dial_only, path
sessions = 0
bad, ended, steps = 0, 0, 0

local function new_session(slot)
	sessions = sessions + 1
	slot.sid = string.format("bench-%d-%d-%d", tid, os.time() % 100000, sessions)
	slot.phone = string.format("%%2B86138%08d", tid * 10000000 + sessions)
	slot.walk = walks[(sessions % #walks) + 1]
	slot.step = 0
end

function init(args)
	path = args[1] or "/ussd/change-me"
	local inflight = tonumber(args[2] or "64")
	limit = tonumber(args[3] or "0")
	dial_only = args[4] == "dial"
	sessions = 0
	slots = {}
	for i = 1, inflight do
		slots[i] = {}
		new_session(slots[i])
	end
	next_slot = 1
	wrk.method = "POST"
	wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
end

function request()
	local slot = slots[next_slot]
	next_slot = next_slot % #slots + 1
	if slot.step > (dial_only and 0 or #slot.walk) then
		if limit > 0 and sessions >= limit then
			wrk.thread:stop()
		end
		new_session(slot)
	end
	local text = ""
	for i = 1, slot.step do
		text = (i == 1) and slot.walk[i] or (text .. "%2A" .. slot.walk[i])
	end
	slot.step = slot.step + 1
	steps = steps + 1
	local body = "sessionId=" .. slot.sid .. "&serviceCode=%2A123%23&phoneNumber=" .. slot.phone ..
		"&networkCode=46000&text=" .. text
	return wrk.format(nil, path, nil, body)
end

function response(status, headers, body)
	if status ~= 200 then
		bad = bad + 1
	else
		local head = string.sub(body, 1, 4)
		if head == "END " then
			ended = ended + 1
		elseif head ~= "CON " then
			bad = bad + 1
		end
	end
end

function done(summary, latency, requests)
	local b, e, s, n = 0, 0, 0, 0
	for _, t in ipairs(threads) do
		b = b + (t:get("bad") or 0)
		e = e + (t:get("ended") or 0)
		s = s + (t:get("steps") or 0)
		n = n + (t:get("sessions") or 0)
	end
	local errs = summary.errors
	io.write(string.format("wrk requests=%d duration_s=%.3f rps=%.0f p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f max_ms=%.3f " ..
		"bad=%d ended=%d sessions=%d errors=%d timeouts=%d\n",
		summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
		latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
		latency.max / 1000, b, e, n, errs.connect + errs.read + errs.write + errs.status, errs.timeout))
end
