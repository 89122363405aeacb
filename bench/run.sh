#!/usr/bin/env bash
# make bench: the benchmarks of SPEC §9, printed as a table.  Not part of the
# tests.  Works in bench/out/ (git-ignored); every number comes from this run.
#   import   N generated sipas-2017 responses through `sipas import` (target: 1 M in <= 10 s)
#   score    `sipas score` by agency and by sector on 1 M and 10 M responses, beside a bare
#            scan of the same rows with the same query (target: <= 2x the scan, <= 1 GiB)
#   ingest   wrk, 64 connections on loopback for BENCH_SECONDS (default 10) each: accepted kiosk
#            posts per second with full durability, p50/p99, beside a bare libmicrohttpd
#            handler that stores nothing (target: ratio >= 0.5, p99 <= 20 ms)
# BENCH_SIZES overrides the sizes (default "1000000 10000000"); set but empty, it runs
# only the ingest benchmark.
set -euo pipefail
cd "$(dirname "$0")/.."
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
port_of() { sed -n 's/^listening on http:\/\/127.0.0.1:\([0-9]*\)$/\1/p' "$1"; }
wait_for() { for _ in $(seq 100); do [ -s "$1" ] && return 0; sleep 0.1; done; return 1; }
"$SIPAS" init --db ingest.db >/dev/null
token=$("$SIPAS" device add --db ingest.db --agency P-HONGBANG --counter bench 2>/dev/null)
"$SIPAS" serve --db ingest.db --listen 127.0.0.1:0 --threads 4 --device-rate 0 --max-per-ip 1024 \
	>serve.out 2>/dev/null &
serve_pid=$!
wait_for serve.out
port=$(port_of serve.out)
wrk -t2 -c64 -d"${SECONDS_EACH}s" --latency -s "$LUA" "http://127.0.0.1:$port" -- "$token" > wrk-sipas.txt
kill -TERM $serve_pid; wait $serve_pid || true
stored=$(sqlite3 ingest.db "SELECT count(*) FROM responses")
read -r s_req s_fail s_secs s_p50 s_p99 < <(sed -n 's/^RESULT requests=\([0-9]*\) failed=\([0-9]*\) seconds=\([0-9.]*\) p50_ms=\([0-9.]*\) p99_ms=\([0-9.]*\)$/\1 \2 \3 \4 \5/p' wrk-sipas.txt)
bare_port=18999
"$BARE" $bare_port 4 > bare.out &
bare_pid=$!
wait_for bare.out
wrk -t2 -c64 -d"${SECONDS_EACH}s" --latency -s "$LUA" "http://127.0.0.1:$bare_port" -- "$token" > wrk-bare.txt
kill -TERM $bare_pid; wait $bare_pid || true
read -r b_req b_fail b_secs b_p50 b_p99 < <(sed -n 's/^RESULT requests=\([0-9]*\) failed=\([0-9]*\) seconds=\([0-9.]*\) p50_ms=\([0-9.]*\) p99_ms=\([0-9.]*\)$/\1 \2 \3 \4 \5/p' wrk-bare.txt)
s_rate=$(awk -v n="$s_req" -v f="$s_fail" -v s="$s_secs" 'BEGIN { printf "%.0f", (n - f) / s }')
b_rate=$(awk -v n="$b_req" -v f="$b_fail" -v s="$b_secs" 'BEGIN { printf "%.0f", (n - f) / s }')
row "ingest: accepted posts/s, 64 connections" "$s_rate/s" "" "$stored stored, $s_fail refused"
row "ingest: p50 / p99 latency" "$s_p50 ms" "$s_p99 ms" "target p99 <= 20 ms"
row "bare handler (stores nothing): posts/s" "$b_rate/s" "" "p50 $b_p50 ms, p99 $b_p99 ms"
row "ingest / bare ratio" "$(awk -v a="$s_rate" -v b="$b_rate" 'BEGIN { printf "%.2f", a / b }')" "" "target >= 0.5"
rm -f ingest.db ingest.db-wal ingest.db-shm

for n in $SIZES; do
	db="bench-$n.db"
	"$SIPAS" init --db "$db" >/dev/null
	"$SIPAS" demo --db "$db" --csv responses.csv --form sipas-2017 --period 2026Q3 --rows "$n"
	measure "$SIPAS" import --db "$db" --form sipas-2017 responses.csv
	row "import $n rows" "${secs} s" "${mib} MiB" \
		"$(awk -v n="$n" -v s="$secs" 'BEGIN { printf "%.0f rows/s", n / s }')"
	if [ "$n" = "$(echo "$SIZES" | awk '{print $1}')" ]; then
		measure "$SIPAS" import --db "$db" --form sipas-2017 responses.csv
		row "re-import $n rows (all already stored)" "${secs} s" "${mib} MiB" ""
	fi
	rm -f responses.csv
	measure "$SCAN" "$db" sipas-2017 2026Q3
	scan=$secs
	row "bare scan of the same rows, $n" "${secs} s" "${mib} MiB" "baseline"
	for by in agency sector; do
		measure "$SIPAS" score --db "$db" --period 2026Q3 --by "$by" --format json
		row "score --by $by, $n" "${secs} s" "${mib} MiB" \
			"$(awk -v a="$secs" -v b="$scan" 'BEGIN { printf "%.2fx the scan", a / b }')"
	done
	rm -f "$db" "$db-wal" "$db-shm"
done

printf '%-46s %12s %10s   %s\n' "benchmark" "time" "peak RSS" "note"
printf '%s\n' "${results[@]}"
