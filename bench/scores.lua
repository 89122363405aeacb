-- wrk script for the published-scores benchmark: every request reads the
-- published figures of one period, as an anonymous visitor of the results
-- does (with a browser's Accept-Encoding: the reply is gzipped).  The RESULT line is post.lua's done().
-- usage: wrk -s bench/scores.lua URL -- PERIOD
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "post.lua")

function init(args)
	path = "/api/scores?period=" .. (args[1] or "2026Q3")
end

function request()
	return wrk.format("GET", path, { ["Accept-Encoding"] = "gzip, deflate, br" })
end
