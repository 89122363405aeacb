#!/usr/bin/env bash
# make bench: the benchmarks of SPEC §9, printed as a table.  Not part of the
# tests.  Works in bench/out/ (git-ignored); every number comes from this run.
#   import   1 M generated sipas-2017 responses through `sipas import` (target <= 10 s)
set -euo pipefail
cd "$(dirname "$0")/.."
SIPAS="$PWD/bin/sipas"
ROWS="${BENCH_ROWS:-1000000}"
OUT="$PWD/bench/out"
rm -rf "$OUT"
mkdir -p "$OUT"
cd "$OUT"

results=()
row() { results+=("$(printf '%-44s %14s   %s' "$1" "$2" "$3")"); }

# Wall-clock seconds and peak RSS (MiB) of a command, via GNU time's format.
measure() {
	/usr/bin/time -f '%e %M' -o time.txt "$@" >/dev/null
	read -r secs kib < time.txt
	mib=$(( kib / 1024 ))
}

"$SIPAS" init --db bench.db >/dev/null
"$SIPAS" demo --db bench.db --csv responses.csv --form sipas-2017 --period 2026Q3 --rows "$ROWS"
size=$(du -m responses.csv | cut -f1)

measure "$SIPAS" import --db bench.db --form sipas-2017 responses.csv
row "import $ROWS rows (${size} MiB CSV)" "${secs} s" "target <= 10 s; peak ${mib} MiB"
rate=$(awk -v n="$ROWS" -v s="$secs" 'BEGIN { printf "%.0f", n / s }')
row "import rate" "$rate rows/s" ""
measure "$SIPAS" import --db bench.db --form sipas-2017 responses.csv
row "re-import (all duplicates)" "${secs} s" "peak ${mib} MiB"

printf '%-44s %14s   %s\n' "benchmark" "result" "note"
printf '%s\n' "${results[@]}"
