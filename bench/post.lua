-- wrk script for the collector benchmark: every request posts a new kiosk
-- rating (unique response_id per thread and request) with a kiosk token.
-- usage: wrk -s bench/post.lua URL -- TOKEN
local threads = {}
local next_id = 0

function setup(thread)
	thread:set("tid", next_id)
	next_id = next_id + 1
	table.insert(threads, thread)
end

function init(args)
	token = args[1] or ""
	n = 0
	-- now: the server refuses ratings older than its --max-age
	submitted_at = os.date("!%Y-%m-%dT%H:%M:%SZ")
end

function request()
	n = n + 1
	local body = string.format('{"response_id":"w%d-%d","form":"kiosk-2018","agency":"P-HONGBANG",'
		.. '"sector":"dat-dai","submitted_at":"%s","answers":{"overall":%d}}',
		tid, n, submitted_at, n % 3 + 1)
	return wrk.format("POST", "/api/responses", {
		["Content-Type"] = "application/json",
		["Authorization"] = "Bearer " .. token,
	}, body)
end

function done(summary, latency, requests)
	local bad = summary.errors.status + summary.errors.connect + summary.errors.read
		+ summary.errors.write + summary.errors.timeout
	io.write(string.format("RESULT requests=%d failed=%d seconds=%.3f p50_ms=%.3f p99_ms=%.3f\n",
		summary.requests, bad, summary.duration / 1e6,
		latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
