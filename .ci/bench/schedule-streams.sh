#!/usr/bin/env bash
# 10,000 concurrent streaming requests held for 30 s against a slow mock
# (issue #4). Every stream lasts about 30 s (1 s to the first token, then
# 290 tokens 100 ms apart), all in flight at once. Targets: no errors,
# client RSS <= 1 GB.
#
#   bash .ci/bench/schedule-streams.sh           # 3 runs
#   RUNS=1 STREAMS=10000 bash .ci/bench/schedule-streams.sh
source "$(dirname "$0")/lib/schedule.bash"

RUNS=${RUNS:-3}
STREAMS=${STREAMS:-10000}
PORT=${PORT:-18093}
# Both processes hold one socket per stream.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
echo "open files limit: $(ulimit -n)"

start_mock "$PORT" --ttft 1000ms --itl 100ms
echo "streams: $STREAMS concurrent streaming requests of ~30 s, $RUNS runs"
echo "load before: $(loadavg)"
: >"$tmp/peak"; : >"$tmp/errs"
for i in $(seq "$RUNS"); do
  out=$(drive -drive.url "http://127.0.0.1:$PORT" -drive.c "$STREAMS" -drive.n "$STREAMS" -drive.stream -drive.osl 290 -drive.rss 2s)
  peak=$(awk '/^drive-rss-mb:/ {v=$3; gsub(/;/,"",v); print v}' <<<"$out")
  errs=$(awk '/^drive:/ {print $7}' <<<"$out" | tr -d ,)
  echo "run $i: $(grep -E '^drive:' <<<"$out")"
  grep -E '^drive-(rss|gc|warning)' <<<"$out" | sed 's/^/    /'
  echo "$peak" >>"$tmp/peak"; echo "$errs" >>"$tmp/errs"
done
echo "load after:  $(loadavg)"
pk=$(median <"$tmp/peak"); e=$(sort -g "$tmp/errs" | tail -n1)
awk -v p="$pk" -v e="$e" 'BEGIN { printf "median peak RSS %.1f MB (target <= 1024 MB) %s; most errors in a run: %d %s\n", p, (p <= 1024 ? "PASS" : "MISS"), e, (e == 0 ? "PASS" : "MISS") }'
