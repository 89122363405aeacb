#!/usr/bin/env bash
# make bench: the benchmarks, printed as a table.  Not part of the
# tests.  Works in bench/out/ (git-ignored); every number comes from this run.
#   import   N generated sipas-2017 responses through `sipas import` (target: 1 M in <= 10 s),
#            how long of it the database's write lock was held in all and at most at once
#            (target <= 0.1 s); for the first size a collector serves the same database
#            meanwhile, with 2 connections posting kiosk ratings: their p99 and refusals
#   score    `sipas score` by agency and by sector on 100 k (the size quoted beside R `survey`),
#            1 M and 10 M responses, beside a bare scan of the same rows with the same query,
#            BENCH_ROUNDS alternating rounds: medians, and the median of each round's ratio
#            (target: plain score <= 1.2x the scan, <= 1 GiB)
#   ingest   wrk, 64 connections on loopback for BENCH_SECONDS (default 10) each, BENCH_ROUNDS
#            (default 3) rounds: accepted kiosk posts per second with full durability, p50/p99,
#            beside a bare libmicrohttpd handler that stores nothing (target: ratio >= 0.5,
#            p99 <= 20 ms), and the same handler with each request suspended and resumed by
#            another thread (what the hand-off to the writer costs by itself); and the
#            collector with `serve --no-alerts`, to show what the alert engine costs (a CUSUM
#            per counter and per agency on every rating; target: with alerts >= 0.95x without)
#   rake     `sipas score --rake` (calibration-aware standard errors) on the first size, the demo's
#            agencies folded onto 10, every respondent with a gender: 10 agencies x 2 genders,
#            beside plain scoring of the same rows (target: <= 2x)
#   report   `sipas report` for a quarter of a year of BENCH_REPORT_ROWS (default 1 M) responses
#            a quarter (target: <= 10 s, <= 1 GiB); BENCH_REPORT_ROWS=0 skips it
#   scores   GET /api/scores for a published quarter of BENCH_SCORES_ROWS (default 2.5 M) responses,
#            wrk with 64 connections for BENCH_SECONDS: requests/s, p50/p99 (target p99 <= 5 ms);
#            BENCH_SCORES_ROWS=0 skips it
#   kiosk    the kiosk page's first render in headless Chromium with the CPU throttled 4x
#            (bench/kiosk_render.mjs; target: <= 1 s)
#   hub      national scoring of BENCH_HUB_ROWS (default 10 M) responses from a PostgreSQL 15 hub
#            started here (sipas score --hub, rows streamed by COPY) beside `sipas score` on the
#            same rows in SQLite: wall time of each, the ratio, peak RSS (target <= 1 GiB);
#            skipped under 20 GiB free, or with BENCH_HUB_ROWS=0
#   push     `sipas push` of a province's year of BENCH_PUSH_ROWS (default 4 M) responses
#            to the same kind of hub, through a push role: rows/s; again with nothing new;
#            BENCH_PUSH_ROWS=0 skips it
# BENCH_SIZES overrides the sizes (default "1000000 10000000"); set but empty, it runs
# only the ingest benchmark.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
SIPAS="$PWD/bin/sipas"
SCAN="$PWD/build/release/bench/scan"
SIZES="${BENCH_SIZES-1000000 10000000}"
SECONDS_EACH="${BENCH_SECONDS:-10}"
BARE="$PWD/build/release/bench/bare"
LUA="$PWD/bench/post.lua"
OUT="$PWD/bench/out"
rm -rf "$OUT"
mkdir -p "$OUT"
cd "$OUT"

results=()
row() { results+=("$(printf '%-46s %12s %10s   %s' "$1" "$2" "$3" "$4")"); }

# Wall-clock seconds and peak RSS (MiB) of a command (GNU time).
measure() {
	/usr/bin/time -f '%e %M' -o time.txt "$@" >/dev/null
	read -r secs kib < time.txt
	mib=$(( kib / 1024 ))
}

# ---- ingest ----
# Rounds alternate the three servers so that drift in a shared machine hits
# them alike; each figure is the median over the rounds, and the ratio the
# median of each round's own ratio.
port_of() { sed -n 's/^listening on http:\/\/127.0.0.1:\([0-9]*\)$/\1/p' "$1"; }
wait_for() { for _ in $(seq 100); do [ -s "$1" ] && return 0; sleep 0.1; done; return 1; }
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
# wrk's RESULT line as "rate p50 p99 failed" (rate = accepted requests per second);
# $4 is the wrk script (default post.lua, which takes a kiosk token as $2)
wrk_run() {
	wrk -t2 -c64 -d"${SECONDS_EACH}s" --latency -s "${4:-$LUA}" "$1" -- "$2" > "$3"
	sed -n 's/^RESULT requests=\([0-9]*\) failed=\([0-9]*\) seconds=\([0-9.]*\) p50_ms=\([0-9.]*\) p99_ms=\([0-9.]*\)$/\1 \2 \3 \4 \5/p' "$3" |
		awk '{ printf "%.0f %s %s %s\n", ($1 - $2) / $3, $4, $5, $2 }'
}
ROUNDS="${BENCH_ROUNDS:-3}"
s_rates=() s_p50s=() s_p99s=() b_rates=() r_rates=() ratios=() n_rates=() alert_ratios=() s_cpus=() n_cpus=()
s_failed=0 stored=0
# One collector on a fresh database under wrk, writing its report to $1,
# with the serve options that follow: rate p50 p99 failed set, cpu_per_k
# (the server's CPU milliseconds per 1000 ratings stored: what a loaded
# machine's wall clock hides), and what it stored added to stored.
TICK=$(getconf CLK_TCK)
sipas_round() {
	local report=$1
	shift
	rm -f ingest.db ingest.db-wal ingest.db-shm serve.out
	"$SIPAS" init --db ingest.db >/dev/null
	token=$("$SIPAS" device add --db ingest.db --agency P-HONGBANG --counter bench --sector dat-dai 2>/dev/null)
	"$SIPAS" serve --db ingest.db --listen 127.0.0.1:0 --threads 4 --device-rate 0 --max-per-ip 1024 "$@" \
		>serve.out 2>/dev/null &
	pid=$!
	wait_for serve.out
	read -r rate p50 p99 failed < <(wrk_run "http://127.0.0.1:$(port_of serve.out)" "$token" "$report")
	local ticks n
	ticks=$(awk '{ print $14 + $15 }' "/proc/$pid/stat")
	kill -TERM $pid; wait $pid || true
	n=$(sqlite3 ingest.db "SELECT count(*) FROM responses")
	cpu_per_k=$(awk -v t="$ticks" -v hz="$TICK" -v n="$n" 'BEGIN { printf "%.1f", t * 1000 / hz / (n / 1000) }')
	stored=$(( stored + n ))
}
for round in $(seq "$ROUNDS"); do
	sipas_round "wrk-noalerts-$round.txt" --no-alerts
	n_rates+=("$rate") n_cpus+=("$cpu_per_k")
	sipas_round "wrk-sipas-$round.txt"
	s_rates+=("$rate") s_p50s+=("$p50") s_p99s+=("$p99") s_cpus+=("$cpu_per_k")
	s_failed=$(( s_failed + failed ))
	alert_ratios+=("$(awk -v a="$rate" -v b="${n_rates[-1]}" 'BEGIN { printf "%.3f", a / b }')")
	for mode in bare relay; do
		"$BARE" 18999 4 $([ $mode = relay ] && echo relay) > bare.out &
		pid=$!
		wait_for bare.out
		read -r rate p50 p99 failed < <(wrk_run "http://127.0.0.1:18999" "$token" "wrk-$mode-$round.txt")
		kill -TERM $pid; wait $pid || true
		rm -f bare.out
		if [ $mode = bare ]; then
			b_rates+=("$rate")
			ratios+=("$(awk -v a="${s_rates[-1]}" -v b="$rate" 'BEGIN { printf "%.3f", a / b }')")
		else
			r_rates+=("$rate")
		fi
	done
done
row "ingest: accepted posts/s, 64 connections" "$(median "${s_rates[@]}")/s" "" \
	"median of $ROUNDS; $stored stored, $s_failed refused"
row "ingest: p50 / p99 latency" "$(median "${s_p50s[@]}") ms" "$(median "${s_p99s[@]}") ms" "target p99 <= 20 ms"
row "bare handler (stores nothing): posts/s" "$(median "${b_rates[@]}")/s" "" "rounds: ${b_rates[*]}"
row "bare, suspended + resumed by a thread: posts/s" "$(median "${r_rates[@]}")/s" "" \
	"rounds: ${r_rates[*]}"
row "ingest / bare ratio" "$(median "${ratios[@]}")" "" "target >= 0.5; rounds: ${ratios[*]}"
row "ingest without alerts (--no-alerts): posts/s" "$(median "${n_rates[@]}")/s" "" "rounds: ${n_rates[*]}"
row "ingest with / without alerts ratio" "$(median "${alert_ratios[@]}")" "" \
	"target >= 0.95; rounds: ${alert_ratios[*]}"
row "ingest: server CPU per 1000 ratings" "$(median "${s_cpus[@]}") ms" "" \
	"without alerts $(median "${n_cpus[@]}") ms; rounds: ${s_cpus[*]} / ${n_cpus[*]}"
row "relayed bare / bare ratio" \
	"$(awk -v a="$(median "${r_rates[@]}")" -v b="$(median "${b_rates[@]}")" 'BEGIN { printf "%.2f", a / b }')" "" \
	"the hand-off alone, no storage"
rm -f ingest.db ingest.db-wal ingest.db-shm

# Plain `sipas score` of database $2 ($1 rows) by agency and by sector beside
# the bare scan, in $ROUNDS rounds that alternate the three so that drift in
# a shared machine hits them alike: each time the median, each ratio the
# median of the rounds' own ratios (and the rounds, to show the spread).
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
score_rows() {
	local scans=() agency=() sector=() r_agency=() r_sector=() mibs=() scan
	for round in $(seq "$ROUNDS"); do
		measure "$SCAN" "$2" sipas-2017 2026Q3
		scan=$secs
		scans+=("$secs")
		measure "$SIPAS" score --db "$2" --period 2026Q3 --by agency --format json
		agency+=("$secs") r_agency+=("$(ratio "$secs" "$scan")") mibs+=("$mib")
		measure "$SIPAS" score --db "$2" --period 2026Q3 --by sector --format json
		sector+=("$secs") r_sector+=("$(ratio "$secs" "$scan")") mibs+=("$mib")
	done
	row "bare scan of the same rows, $1" "$(median "${scans[@]}") s" "" "baseline; rounds: ${scans[*]}"
	row "score --by agency, $1" "$(median "${agency[@]}") s" "$(median "${mibs[@]}") MiB" \
		"$(median "${r_agency[@]}")x the scan (target <= 1.2x); rounds: ${r_agency[*]}"
	row "score --by sector, $1" "$(median "${sector[@]}") s" "" \
		"$(median "${r_sector[@]}")x the scan; rounds: ${r_sector[*]}"
}

# ---- score at 100 k rows: the size quoted beside R `survey` (docs/scoring.md) ----
if [ -n "$SIZES" ]; then
	rm -f small.db small.db-wal small.db-shm
	"$SIPAS" init --db small.db >/dev/null
	"$SIPAS" demo --db small.db --csv - --form sipas-2017 --period 2026Q3 --rows 100000 |
		"$SIPAS" import --db small.db --form sipas-2017 - >/dev/null
	score_rows 100000 small.db
	rm -f small.db small.db-wal small.db-shm
fi

# The write lock's hold times that `sipas import --verbose` reports on stderr.
lock_held() { sed -n 's/.*write lock held \([0-9.]*\) s.*/\1/p' "$1"; }
longest_hold() { sed -n 's/.*longest single hold \([0-9.]*\) s$/\1/p' "$1"; }

# Start a collector on $1 with 2 connections posting kiosk ratings until
# posts_stop; their wrk report goes to wrk-import.txt.
posts_start() {
	local token
	token=$("$SIPAS" device add --db "$1" --agency P-HONGBANG --counter bench --sector dat-dai 2>/dev/null)
	"$SIPAS" serve --db "$1" --listen 127.0.0.1:0 --threads 4 --device-rate 0 >serve.out 2>/dev/null &
	serve_pid=$!
	wait_for serve.out
	wrk -t1 -c2 -d3600s --latency -s "$LUA" "http://127.0.0.1:$(port_of serve.out)" -- "$token" \
		>wrk-import.txt &
	wrk_pid=$!
	sleep 1    # wrk connected and posting
}
# Stop them (wrk reports on SIGINT); the posts' p99, refusals and count in
# p99, failed and posted, and in slowest the slowest answered (wrk leaves the
# ones it gave up on after 2 s out of its latencies: they count as failed).
posts_stop() {
	kill -INT $wrk_pid; wait $wrk_pid || true
	kill -TERM $serve_pid; wait $serve_pid || true
	rm -f serve.out
	read -r p99 failed posted < <(sed -n \
		's/^RESULT requests=\([0-9]*\) failed=\([0-9]*\) seconds=[0-9.]* p50_ms=[0-9.]* p99_ms=\([0-9.]*\)$/\3 \2 \1/p' \
		wrk-import.txt)
	slowest=$(awk '$1 == "Latency" { print $4; exit }' wrk-import.txt)
}

for n in $SIZES; do
	db="bench-$n.db"
	"$SIPAS" init --db "$db" >/dev/null
	"$SIPAS" demo --db "$db" --csv responses.csv --form sipas-2017 --period 2026Q3 --rows "$n"
	sync    # else the import competes with the write-back of the CSV just written
	first=$([ "$n" = "$(echo "$SIZES" | awk '{print $1}')" ] && echo 1 || true)
	[ -n "$first" ] && posts_start "$db"
	measure "$SIPAS" import --db "$db" --form sipas-2017 --verbose responses.csv 2>import.err
	[ -n "$first" ] && posts_stop
	row "import $n rows" "${secs} s" "${mib} MiB" \
		"$(awk -v n="$n" -v s="$secs" 'BEGIN { printf "%.0f rows/s", n / s }')$([ -n "$first" ] &&
		echo ", kiosks posting meanwhile")"
	row "  the write lock held, in all" "$(lock_held import.err) s" "" "in short parts"
	row "  the longest single hold" "$(longest_hold import.err) s" "" \
		"target <= 0.1 s: a post waits at most that"
	[ -n "$first" ] && row "  kiosk posts during the import: p99" "$p99 ms" "" \
		"slowest answered $slowest; $posted posted, $failed refused or timed out (2 s)"
	if [ -n "$first" ]; then
		measure "$SIPAS" import --db "$db" --form sipas-2017 --verbose responses.csv 2>import.err
		row "re-import $n rows (all already stored)" "${secs} s" "${mib} MiB" \
			"write lock held $(lock_held import.err) s"
	fi
	rm -f responses.csv
	score_rows "$n" "$db"
	rm -f "$db" "$db-wal" "$db-shm"
done

# ---- score --rake: the first size, 10 agencies x 2 genders ----
# Margins are the sample's weight totals per agency + 5 %, split 49/51 by gender.
RAKE_ROWS=$(echo "$SIZES" | awk '{print $1}')
if [ -n "$RAKE_ROWS" ]; then
	rm -f rake.db rake.db-wal rake.db-shm
	"$SIPAS" init --db rake.db >/dev/null
	"$SIPAS" demo --db rake.db --csv demo.csv --form sipas-2017 --period 2026Q3 --rows "$RAKE_ROWS"
	awk -F, -v OFS=, -v codes="$(sqlite3 rake.db "SELECT code FROM agencies ORDER BY id LIMIT 10" | tr '\n' ' ')" '
		BEGIN { n = split(codes, c, " ") }
		NR == 1 { print; next }
		{ if (!($3 in to)) { to[$3] = c[m % n + 1]; m++ }
		  $3 = to[$3]; $7 = $3                        # agency, and its stratum
		  if ($10 == "") $10 = NR % 2 ? "nam" : "nu"  # gender
		  w[$3] += $9; print }
		END { print "variable,level,total" > "margins.csv"
		      for (a in w) { t = int(w[a] * 1.05 + 0.5); print "agency," a "," t > "margins.csv"; s += t }
		      print "gender,nam," int(s * 0.49) > "margins.csv"; print "gender,nu," s - int(s * 0.49) > "margins.csv" }
	' demo.csv > rake.csv
	"$SIPAS" import --db rake.db --form sipas-2017 rake.csv >/dev/null
	rm -f demo.csv rake.csv
	measure "$SIPAS" score --db rake.db --period 2026Q3 --format json
	plain=$secs
	row "score (design weights), $RAKE_ROWS, 10 agencies" "${secs} s" "${mib} MiB" "baseline"
	measure "$SIPAS" score --db rake.db --period 2026Q3 --format json --rake margins.csv
	row "score --rake agency+gender, $RAKE_ROWS" "${secs} s" "${mib} MiB" \
		"$(awk -v a="$secs" -v b="$plain" 'BEGIN { printf "%.2fx plain; target <= 2x", a / b }')"
	rm -f rake.db rake.db-wal rake.db-shm margins.csv
fi

# ---- the quarterly report: a year of BENCH_REPORT_ROWS responses a quarter ----
# (the trend needs the three quarters before; 0 skips it)
REPORT_ROWS="${BENCH_REPORT_ROWS-1000000}"
if [ "$REPORT_ROWS" != 0 ]; then
	rm -f report.db report.db-wal report.db-shm
	"$SIPAS" init --db report.db >/dev/null
	for q in 2025Q4 2026Q1 2026Q2 2026Q3; do
		"$SIPAS" demo --db report.db --csv "year-$q.csv" --form sipas-2017 --period "$q" --rows "$REPORT_ROWS"
		"$SIPAS" import --db report.db --form sipas-2017 "year-$q.csv" >/dev/null
		rm -f "year-$q.csv"
	done
	measure "$SIPAS" report --db report.db --period 2026Q3 --out report
	row "report 2026Q3, $(( REPORT_ROWS * 4 )) responses in the year" "${secs} s" "${mib} MiB" \
		"target <= 10 s, <= 1 GiB"
	rm -rf report report.db report.db-wal report.db-shm
fi

# ---- published scores: what anonymous visitors read, served as stored ----
# The quarter is generated straight into the import (no CSV on disk) and
# published once; each request then only reads the stored figures.
SCORES_ROWS="${BENCH_SCORES_ROWS-2500000}"
if [ "$SCORES_ROWS" != 0 ]; then
	rm -f scores.db scores.db-wal scores.db-shm serve.out
	"$SIPAS" init --db scores.db >/dev/null
	build_start=$(date +%s.%N)
	"$SIPAS" demo --db scores.db --csv - --form sipas-2017 --period 2026Q3 --rows "$SCORES_ROWS" |
		"$SIPAS" import --db scores.db --form sipas-2017 - >/dev/null
	measure "$SIPAS" publish --db scores.db --period 2026Q3
	row "database of $SCORES_ROWS responses, built" \
		"$(awk -v a="$build_start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f s", b - a }')" "" \
		"demo | import, then publish (${secs} s of it)"
	"$SIPAS" serve --db scores.db --listen 127.0.0.1:0 >serve.out 2>/dev/null &
	pid=$!
	wait_for serve.out
	read -r rate p50 p99 failed < <(wrk_run "http://127.0.0.1:$(port_of serve.out)" \
		"/api/scores?period=2026Q3" wrk-scores.txt "$ROOT/bench/get.lua")
	row "GET /api/scores (published), 64 connections" "${rate}/s" "" "$failed failed"
	row "GET /api/scores: p50 / p99 latency" "$p50 ms" "$p99 ms" "target p99 <= 5 ms"
	# the same load on the smallest reply that reads no database: what the
	# machine itself (wrk and the server on the same cores) adds to the tail
	read -r rate p50 p99 failed < <(wrk_run "http://127.0.0.1:$(port_of serve.out)" \
		"/api/forms/kiosk-2018" wrk-forms.txt "$ROOT/bench/get.lua")
	kill -TERM $pid; wait $pid || true
	row "GET /api/forms/kiosk-2018 (1 KB, no database)" "${rate}/s" "" "the machine's own tail, for comparison"
	row "GET /api/forms: p50 / p99 latency" "$p50 ms" "$p99 ms" ""
	rm -f scores.db scores.db-wal scores.db-shm serve.out
fi

# ---- the kiosk page: first render with the CPU throttled 4x ----
render=$(SIPAS_BIN="$SIPAS" SIPAS_NODE_DIR="$ROOT/build/node" node "$ROOT/bench/kiosk_render.mjs")
row "kiosk first render, CPU 4x slower" "$(echo "$render" | sed -n 's/.*median \([0-9]*\) ms.*/\1 ms/p')" "" \
	"$(echo "$render" | sed -n 's/.*(\(first contentful paint [0-9]* ms\)).*/\1/p'); target <= 1000 ms"

# ---- the hub: a PostgreSQL 15 of the bench's own ----
# Started as the tests start theirs (initdb as postgres in a temporary
# directory, a socket there, no TCP) and stopped by the trap whatever
# happens; one server at a time (HUB_PGDIR).
PG_BIN=/usr/lib/postgresql/15/bin
HUB_PGDIR=
as_postgres() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
hub_pg_stop() {
	[ -n "$HUB_PGDIR" ] || return 0
	as_postgres "$PG_BIN/pg_ctl" -D "$HUB_PGDIR/data" -m fast stop >/dev/null 2>&1 || true
	rm -rf "$HUB_PGDIR"
	HUB_PGDIR=
	trap - EXIT
}
# Start a hub with the schema and province P1's push role push_p1; its
# owner's CONNINFO in $hub, the push role's in $push_hub.
hub_pg_start() {
	HUB_PGDIR=$(mktemp -d /tmp/sipas-bench-hub.XXXXXX)
	trap hub_pg_stop EXIT
	[ "$(id -u)" = 0 ] && chown postgres "$HUB_PGDIR"
	as_postgres "$PG_BIN/initdb" -D "$HUB_PGDIR/data" -A trust -U postgres >/dev/null
	as_postgres "$PG_BIN/pg_ctl" -D "$HUB_PGDIR/data" -l "$HUB_PGDIR/log" -w \
		-o "-k $HUB_PGDIR -c listen_addresses= -c shared_buffers=256MB -c max_wal_size=4GB" start >/dev/null
	hub="host=$HUB_PGDIR dbname=postgres user=postgres"
	push_hub="host=$HUB_PGDIR dbname=postgres user=push_p1"
	"$SIPAS" hub init --hub "$hub" >/dev/null
	"$SIPAS" hub grant --hub "$hub" --province P1 --role push_p1 >/dev/null
}

# push: a province's year (four quarters of BENCH_PUSH_ROWS / 4 imported
# responses) through its push role, row-level security and all; then again,
# with nothing new.
PUSH_ROWS="${BENCH_PUSH_ROWS-4000000}"
push_bench() {
	local q
	hub_pg_start
	rm -f push.db push.db-wal push.db-shm
	"$SIPAS" init --db push.db >/dev/null
	for q in 2025Q4 2026Q1 2026Q2 2026Q3; do
		"$SIPAS" demo --db push.db --csv - --form sipas-2017 --period "$q" --rows $(( PUSH_ROWS / 4 )) |
			"$SIPAS" import --db push.db --form sipas-2017 - >/dev/null
	done
	measure "$SIPAS" push --db push.db --hub "$push_hub" --province P1
	row "push $PUSH_ROWS responses (a year) to the hub" "$secs s" "$mib MiB" \
		"$(awk -v n="$PUSH_ROWS" -v s="$secs" 'BEGIN { printf "%.0f rows/s", n / s }'); 50,000 a transaction"
	measure "$SIPAS" push --db push.db --hub "$push_hub" --province P1
	row "push again (nothing new)" "$secs s" "$mib MiB" "forms, registry, the mark"
	rm -f push.db push.db-wal push.db-shm
	hub_pg_stop
}

# hub: national scoring of BENCH_HUB_ROWS responses from the hub beside the
# same rows in SQLite.  The province's database is pushed whole (one
# province holds all the rows: what is measured is reading and scoring
# them, not how many provinces).
HUB_ROWS="${BENCH_HUB_ROWS-10000000}"
hub_bench() {
	local free_kib sqlite_secs
	free_kib=$(df -Pk "$OUT" | awk 'NR == 2 { print $4 }')
	if [ "$free_kib" -lt $((20 * 1024 * 1024)) ]; then
		row "national scoring from the hub" "skipped" "" "under 20 GiB free on $OUT"
		return 0
	fi
	hub_pg_start
	rm -f hub.db hub.db-wal hub.db-shm
	"$SIPAS" init --db hub.db >/dev/null
	"$SIPAS" demo --db hub.db --csv - --form sipas-2017 --period 2026Q3 --rows "$HUB_ROWS" |
		"$SIPAS" import --db hub.db --form sipas-2017 - >/dev/null
	measure "$SIPAS" push --hub "$push_hub" --province P1 --db hub.db
	row "hub filled: push of $HUB_ROWS responses" "$secs s" "$mib MiB" \
		"$(awk -v n="$HUB_ROWS" -v s="$secs" 'BEGIN { printf "%.0f rows/s", n / s }')"
	as_postgres "$PG_BIN/psql" -h "$HUB_PGDIR" -U postgres -d postgres -qc "VACUUM ANALYZE sipas.responses"
	measure "$SIPAS" score --db hub.db --period 2026Q3 --by agency --format json
	sqlite_secs=$secs
	row "score --by agency, $HUB_ROWS rows in SQLite" "$secs s" "$mib MiB" "baseline"
	measure "$SIPAS" score --hub "$hub" --period 2026Q3 --by agency --format json
	row "score --hub --by agency, the same rows" "$secs s" "$mib MiB" \
		"$(ratio "$secs" "$sqlite_secs")x SQLite (target <= 1 GiB; the server's own memory not counted)"
	measure "$SIPAS" score --hub "$hub" --period 2026Q3 --by province --format json
	row "score --hub --by province, the same rows" "$secs s" "$mib MiB" "$(ratio "$secs" "$sqlite_secs")x SQLite"
	rm -f hub.db hub.db-wal hub.db-shm
	hub_pg_stop
}

if [ ! -x "$PG_BIN/initdb" ]; then
	row "push and national scoring from the hub" "skipped" "" "PostgreSQL 15 is not installed (make deps)"
else
	if [ "$PUSH_ROWS" != 0 ]; then push_bench; else row "push to the hub" "skipped" "" "BENCH_PUSH_ROWS=0"; fi
	if [ "$HUB_ROWS" != 0 ]; then hub_bench; else row "national scoring from the hub" "skipped" "" "BENCH_HUB_ROWS=0"; fi
fi

printf '%-46s %12s %10s   %s\n' "benchmark" "time" "peak RSS" "note"
printf '%s\n' "${results[@]}"
