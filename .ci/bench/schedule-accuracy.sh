#!/usr/bin/env bash
# Schedule accuracy (issue #4): Poisson arrivals at 2,000 req/s for 10 s
# against the fast mock. Targets: achieved rate within 0.5 % of the target,
# issue delay (actual − scheduled send time) p99 <= 1 ms.
#
#   bash .ci/bench/schedule-accuracy.sh          # 5 runs
#   RUNS=7 RATE=5000 DURATION=10s bash .ci/bench/schedule-accuracy.sh
#
# Server and client are pinned to different CPUs; prints every run and the
# medians, with the machine load before and after.
source "$(dirname "$0")/lib/schedule.bash"

RUNS=${RUNS:-5}
RATE=${RATE:-2000}
DURATION=${DURATION:-10s}
ARRIVAL=${ARRIVAL:-poisson}
PORT=${PORT:-18091}

start_mock "$PORT" --fast
echo "schedule accuracy: $ARRIVAL at $RATE req/s for $DURATION, $RUNS runs; mock on CPU $SERVER_CPU, client on CPU $CLIENT_CPU"
echo "load before: $(loadavg)"
: >"$tmp/ratio"; : >"$tmp/p99"; : >"$tmp/p50"
for i in $(seq "$RUNS"); do
  out=$(drive -drive.url "http://127.0.0.1:$PORT" -drive.rate "$RATE" -drive.arrival "$ARRIVAL" -drive.d "$DURATION")
  ratio=$(awk '/^drive-rate:/ {for (i=1;i<=NF;i++) if ($i=="achieved/target") {v=$(i+1); gsub(/;/,"",v); print v}}' <<<"$out")
  p50=$(awk '/^drive-issue-delay-ms:/ {print $3}' <<<"$out")
  p99=$(awk '/^drive-issue-delay-ms:/ {print $7}' <<<"$out")
  errs=$(awk '/^drive:/ {print $7}' <<<"$out" | tr -d ,)
  echo "run $i: achieved/target $ratio, issue delay p50 $p50 ms p99 $p99 ms, errors $errs"
  grep -E '^drive-(rate|warning)' <<<"$out" | sed 's/^/    /'
  echo "$ratio" >>"$tmp/ratio"; echo "$p99" >>"$tmp/p99"; echo "$p50" >>"$tmp/p50"
done
echo "load after:  $(loadavg)"
r=$(median <"$tmp/ratio"); p=$(median <"$tmp/p99"); m=$(median <"$tmp/p50")
awk -v r="$r" -v p="$p" -v m="$m" 'BEGIN {
  dev = (r > 1 ? r - 1 : 1 - r) * 100
  printf "median: achieved/target %.5f (%.3f%% off; target <= 0.5%%) %s; issue delay p50 %.4f ms, p99 %.4f ms (target <= 1 ms) %s\n",
    r, dev, (dev <= 0.5 ? "PASS" : "MISS"), m, p, (p <= 1 ? "PASS" : "MISS")
}'
