#!/usr/bin/env bash
# make bench: the benchmarks of SPEC §9, printed as a table.  Not part of the
# tests.  Works in bench/out/ (git-ignored); every number comes from this run.
#   import   N generated sipas-2017 responses through `sipas import` (target: 1 M in <= 10 s)
#   score    `sipas score` by agency and by sector on 1 M and 10 M responses, beside a bare
#            scan of the same rows with the same query (target: <= 2x the scan, <= 1 GiB)
# BENCH_SIZES overrides the sizes (default "1000000 10000000").
set -euo pipefail
cd "$(dirname "$0")/.."
SIPAS="$PWD/bin/sipas"
SCAN="$PWD/build/release/bench/scan"
SIZES="${BENCH_SIZES:-1000000 10000000}"
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
