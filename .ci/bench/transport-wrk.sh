#!/usr/bin/env bash
# Non-streaming throughput of the loadstar transport versus wrk on the same
# fast server, concurrency 64, server and client pinned to different CPUs.
# Target (issue #4): loadstar >= 0.85x wrk's req/s.
#
#   bash .ci/bench/transport-wrk.sh             # 5 runs of 5 s each
#   RUNS=7 DURATION=10 bash .ci/bench/transport-wrk.sh
#
# The server is `loadstar mock --fast` when the CLI has it, else the fasthttp
# stand-in in internal/transport (TestServeFast). Prints the median of RUNS
# runs of each client and the machine load before and after.
set -euo pipefail
cd "$(dirname "$0")/../.."

RUNS=${RUNS:-5}
DURATION=${DURATION:-5}
CONNS=${CONNS:-64}
PORT=${PORT:-18080}
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
URL="http://127.0.0.1:${PORT}/v1/chat/completions"
BODY='{"model":"m","messages":[{"role":"user","content":"hi"}],"max_tokens":16}'

. .ci/bench/lib/wrk.bash # the working directory is the repository root
require_wrk_and_taskset

tmp=$(mktemp -d)
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

go test -c -tags bench -o "$tmp/transport.test" ./internal/transport
go build -o "$tmp/loadstar" ./cmd/loadstar 2>/dev/null || true

serve_for=$(( (DURATION + 2) * RUNS * 2 + 30 ))
if [ -x "$tmp/loadstar" ] && "$tmp/loadstar" mock --help 2>&1 | grep -q -- '--fast'; then
  server_name="loadstar mock --fast"
  taskset -c "$SERVER_CPU" "$tmp/loadstar" mock --fast --port "$PORT" >"$tmp/server.log" 2>&1 &
else
  server_name="fasthttp stand-in (internal/transport TestServeFast)"
  taskset -c "$SERVER_CPU" "$tmp/transport.test" -test.run '^TestServeFast$' \
    -load.addr "127.0.0.1:$PORT" -load.d "${serve_for}s" >"$tmp/server.log" 2>&1 &
fi
server_pid=$!
for _ in $(seq 50); do
  if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then break; fi
  sleep 0.1
done

cat >"$tmp/post.lua" <<EOF
wrk.method = "POST"
wrk.body = '$BODY'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Accept"] = "application/json"
EOF

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

echo "server: $server_name on CPU $SERVER_CPU; clients on CPU $CLIENT_CPU; c=$CONNS, ${DURATION}s x $RUNS runs"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
: >"$tmp/wrk"; : >"$tmp/ls"; : >"$tmp/ratio"
run_wrk() {
  taskset -c "$CLIENT_CPU" wrk -t1 -c"$CONNS" -d"${DURATION}s" -s "$tmp/post.lua" "$URL" | awk '/Requests\/sec/ {print $2}'
}
run_loadstar() {
  taskset -c "$CLIENT_CPU" "$tmp/transport.test" -test.run '^TestDriveLoad$' \
    -load.url "$URL" -load.body "$BODY" -load.c "$CONNS" -load.d "${DURATION}s" | tee -a "$tmp/ls.log" |
    awk '/loadstar transport:/ {print $3}'
}
for i in $(seq "$RUNS"); do
  # Alternate which client goes first so slow drifts in machine load even out.
  if [ $((i % 2)) = 1 ]; then w=$(run_wrk); l=$(run_loadstar); else l=$(run_loadstar); w=$(run_wrk); fi
  echo "run $i: wrk $w req/s, loadstar $l req/s"
  echo "$w" >>"$tmp/wrk"; echo "$l" >>"$tmp/ls"
  awk -v w="$w" -v l="$l" 'BEGIN {print l / w}' >>"$tmp/ratio"
done
echo "load after:  $(cut -d' ' -f1-3 /proc/loadavg)"
grep "loadstar transport:" "$tmp/ls.log" | tail -n1
wm=$(median <"$tmp/wrk"); lm=$(median <"$tmp/ls")
rm_=$(median <"$tmp/ratio")
# The paired ratio (each loadstar run against the wrk run next to it) is
# robust to load that drifts over the runs; the ratio of medians is shown too.
awk -v w="$wm" -v l="$lm" -v p="$rm_" 'BEGIN {
  printf "median: wrk %.0f req/s, loadstar %.0f req/s, ratio of medians %.3f, median paired ratio %.3f (target >= 0.85) %s\n",
    w, l, l / w, p, (p >= 0.85 ? "PASS" : "BELOW TARGET")
}'
