-- wrk script for reading benchmarks: every request GETs one path, as an
-- anonymous visitor does (with a browser's Accept-Encoding, so replies that
-- can be are gzipped).  The RESULT line is post.lua's done().
-- usage: wrk -s bench/get.lua URL -- PATH
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "post.lua")

function init(args)
	path = args[1] or "/api/scores?period=2026Q3"
end

function request()
	return wrk.format("GET", path, { ["Accept-Encoding"] = "gzip, deflate, br" })
end
