#!/usr/bin/env bash
# Request-rate series accuracy (issue #20): a stepped series (RATES for
# SEGMENT each, Poisson, exact) against the fast mock, and a constant-rate
# run at each segment's rate for the same time. For every segment the
# achieved rate is the requests whose send time falls in the segment's
# window over the window's length; a segment of the series should be as
# close to its rate as the constant-rate run at that rate is.
#
#   bash .ci/bench/rate-series.sh                  # 3 runs of 50, 200, 100 req/s, 4 s each
#   RUNS=5 RATES="20 400 100" SEGMENT=5 bash .ci/bench/rate-series.sh
#
# Server and client are pinned to different CPUs; prints each run and the
# medians of |achieved/target − 1| per segment, with the machine load.
source "$(dirname "$0")/lib/schedule.bash"

RUNS=${RUNS:-3}
RATES=${RATES:-"50 200 100"}
SEGMENT=${SEGMENT:-4}
PORT=${PORT:-18093}

start_mock "$PORT" --fast

# rates_in FILE SEG N: achieved rate of each of N windows of SEG seconds, by
# send time (request_start_ns) from the schedule's origin (the first
# request's send time less its issue delay).
rates_in() {
  awk -v seg="$2" -v n="$3" '
    { match($0, /"request_start_ns":[0-9]+/); s = substr($0, RSTART + 19, RLENGTH - 19) + 0
      match($0, /"issue_delay":\{"value":[0-9.eE+-]+/); d = substr($0, RSTART + 23, RLENGTH - 23) * 1e6
      if (NR == 1 || s - d < origin) origin = s - d; start[NR] = s }
    END { for (i = 1; i <= NR; i++) { k = int((start[i] - origin) / (seg * 1e9)); if (k < n) c[k]++ }
          for (k = 0; k < n; k++) printf "%s ", c[k] / seg; print "" }' "$1"
}

segments="" ; i=0
for r in $RATES; do segments+="(\"${SEGMENT}s\", $r), "; i=$((i + 1)); done
n=$i
cat >"$tmp/series.star" <<STAR
run(endpoint = endpoint.chat(url = "http://127.0.0.1:$PORT", model = "mock-model", streaming = True),
    dataset = dataset.synthetic(isl = 32, osl = 8),
    timing = timing.request_rate_series(segments = [$segments]),
    artifact_dir = vars["dir"], ui = "none")
STAR
cat >"$tmp/const.star" <<STAR
run(endpoint = endpoint.chat(url = "http://127.0.0.1:$PORT", model = "mock-model", streaming = True),
    dataset = dataset.synthetic(isl = 32, osl = 8),
    timing = timing.request_rate(rate = float(vars["rate"])), duration = "${SEGMENT}s",
    artifact_dir = vars["dir"], ui = "none")
STAR

echo "rate series: $RATES req/s for ${SEGMENT}s each (Poisson, exact), $RUNS runs; mock on CPU $SERVER_CPU, client on CPU $CLIENT_CPU"
echo "load before: $(loadavg)"
for run in $(seq "$RUNS"); do
  taskset -c "$CLIENT_CPU" "$tmp/loadstar" run --log-level warn --var dir="$tmp/s$run" "$tmp/series.star" >/dev/null
  got=($(rates_in "$tmp/s$run/profile_export.jsonl" "$SEGMENT" "$n"))
  k=0; line="run $run:"
  for r in $RATES; do
    taskset -c "$CLIENT_CPU" "$tmp/loadstar" run --log-level warn --var dir="$tmp/c$run-$k" --var rate="$r" "$tmp/const.star" >/dev/null
    c=$(rates_in "$tmp/c$run-$k/profile_export.jsonl" "$SEGMENT" 1)
    line+=$(awk -v r="$r" -v s="${got[$k]}" -v c="$c" 'BEGIN { printf " %s req/s: series %.2f (%.3f%% off), constant %.2f (%.3f%% off);", r, s, (s / r - 1) * 100, c, (c / r - 1) * 100 }')
    awk -v r="$r" -v s="${got[$k]}" 'BEGIN { d = s / r - 1; print (d < 0 ? -d : d) * 100 }' >>"$tmp/series-$k"
    awk -v r="$r" -v c="$c" 'BEGIN { d = c / r - 1; print (d < 0 ? -d : d) * 100 }' >>"$tmp/const-$k"
    k=$((k + 1))
  done
  echo "$line"
done
echo "load after:  $(loadavg)"
k=0
for r in $RATES; do
  s=$(median <"$tmp/series-$k"); c=$(median <"$tmp/const-$k")
  echo "median |achieved/target - 1| at $r req/s: series segment $s %, constant-rate run $c %"
  k=$((k + 1))
done
