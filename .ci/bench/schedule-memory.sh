#!/usr/bin/env bash
# Client memory over a long run (issue #4): 1,000,000 requests against the
# fast mock, closed loop at concurrency 64. Target: peak RSS <= 250 MB and
# flat — the same run at 100,000 requests peaks at about the same RSS.
# Records are exported at the summary level (per-record files of a million
# requests would measure the disk, not the client). The metrics layer keeps
# every value for exact percentiles up to Runtime.ExactStatsLimit (5M per
# metric by default), so RSS grows by that store; EXACT_LIMIT=100000 switches
# to HDR histograms past 100k values and shows the flat engine alone.
#
#   bash .ci/bench/schedule-memory.sh            # 3 runs of each size
#   RUNS=1 SIZES="100000 1000000" EXACT_LIMIT=100000 bash .ci/bench/schedule-memory.sh
source "$(dirname "$0")/lib/schedule.bash"

RUNS=${RUNS:-3}
SIZES=${SIZES:-"100000 1000000"}
CONC=${CONC:-64}
PORT=${PORT:-18092}
EXPORT=${EXPORT:-summary}
EXACT_LIMIT=${EXACT_LIMIT:-0}

start_mock "$PORT" --fast
echo "memory: closed loop c=$CONC, sizes $SIZES, $RUNS runs each, export level $EXPORT, exact-stats limit ${EXACT_LIMIT/#0/default}"
echo "load before: $(loadavg)"
for n in $SIZES; do
  : >"$tmp/peak"
  for i in $(seq "$RUNS"); do
    out=$(drive -drive.url "http://127.0.0.1:$PORT" -drive.c "$CONC" -drive.n "$n" -drive.export "$EXPORT" -drive.exact-limit "$EXACT_LIMIT" -drive.rss 2s)
    peak=$(awk '/^drive-rss-mb:/ {v=$3; gsub(/;/,"",v); print v}' <<<"$out")
    echo "n=$n run $i: $(grep -E '^drive:' <<<"$out")"
    grep -E '^drive-(rss|throughput|gc|warning)' <<<"$out" | sed 's/^/    /'
    echo "$peak" >>"$tmp/peak"
  done
  pk=$(median <"$tmp/peak")
  awk -v n="$n" -v p="$pk" 'BEGIN { printf "median peak RSS at %d requests: %.1f MB (target <= 250 MB) %s\n", n, p, (p <= 250 ? "PASS" : "MISS") }'
done
echo "load after:  $(loadavg)"
