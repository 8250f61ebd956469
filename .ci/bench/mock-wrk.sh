#!/usr/bin/env bash
# Throughput of `loadstar mock --fast` under wrk: POST /v1/chat/completions,
# non-streaming and streaming (SSE, include_usage), server pinned to one CPU
# and wrk to another, so the mock's own ceiling is measured. Prints the
# median req/s of RUNS runs of each body.
#
#   bash .ci/bench/mock-wrk.sh                     # 3 runs of 5 s, 64 tokens
#   RUNS=5 DURATION=10 TOKENS=256 bash .ci/bench/mock-wrk.sh
set -euo pipefail
cd "$(dirname "$0")/../.."

RUNS=${RUNS:-3}
DURATION=${DURATION:-5}
CONNS=${CONNS:-64}
TOKENS=${TOKENS:-64}
PORT=${PORT:-18090}
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
URL="http://127.0.0.1:${PORT}/v1/chat/completions"

. .ci/bench/lib/wrk.bash # the working directory is the repository root
require_wrk_and_taskset

tmp=$(mktemp -d)
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

go build -o "$tmp/loadstar" ./cmd/loadstar
taskset -c "$SERVER_CPU" "$tmp/loadstar" mock --fast --port "$PORT" >"$tmp/server.out" 2>"$tmp/server.log" &
server_pid=$!
for _ in $(seq 100); do
  grep -q "^http://" "$tmp/server.out" 2>/dev/null && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$tmp/server.log" >&2; exit 1; }
  sleep 0.05
done

prompt="Summarize the plot of a long novel in a few sentences, please."
write_script() { # name body
  cat >"$tmp/$1.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '$2'
LUA
}
write_script chat "{\"model\":\"mock-model\",\"messages\":[{\"role\":\"user\",\"content\":\"$prompt\"}],\"max_tokens\":$TOKENS}"
write_script stream "{\"model\":\"mock-model\",\"messages\":[{\"role\":\"user\",\"content\":\"$prompt\"}],\"max_tokens\":$TOKENS,\"stream\":true,\"stream_options\":{\"include_usage\":true}}"

# Sanity: each body is answered with 200 and the expected shape.
curl -sf "$URL" -H 'Content-Type: application/json' -d "$(sed -n "s/^wrk.body = '\(.*\)'$/\1/p" "$tmp/chat.lua")" | grep -q '"completion_tokens":'"$TOKENS" \
  || { echo "mock answered the chat body unexpectedly" >&2; exit 1; }
curl -sfN "$URL" -H 'Content-Type: application/json' -d "$(sed -n "s/^wrk.body = '\(.*\)'$/\1/p" "$tmp/stream.lua")" | tail -2 | grep -q 'data: \[DONE\]' \
  || { echo "mock answered the streaming body unexpectedly" >&2; exit 1; }

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

echo "loadstar mock --fast on CPU $SERVER_CPU, wrk -t1 -c$CONNS -d${DURATION}s on CPU $CLIENT_CPU, $TOKENS output tokens, $RUNS runs"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
for kind in chat stream; do
  results=()
  for run in $(seq "$RUNS"); do
    cpu0=$(awk '{print $14+$15}' "/proc/$server_pid/stat")
    out=$(taskset -c "$CLIENT_CPU" wrk -t1 -c"$CONNS" -d"${DURATION}s" --latency -s "$tmp/$kind.lua" "$URL")
    cpu1=$(awk '{print $14+$15}' "/proc/$server_pid/stat")
    # The server's CPU share: below 100% means wrk, not the mock, is the limit.
    cpu=$(( (cpu1 - cpu0) * 100 / ($(getconf CLK_TCK) * DURATION) ))
    rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
    p50=$(awk '$1=="50%" {print $2}' <<<"$out")
    p99=$(awk '$1=="99%" {print $2}' <<<"$out")
    errs=$(awk '/Non-2xx|Socket errors/' <<<"$out")
    echo "  $kind run $run: $rps req/s (p50 $p50, p99 $p99, server CPU ${cpu}%) $errs"
    results+=("$rps")
  done
  printf '%s\n' "${results[@]}" | median | xargs printf "%s median: %s req/s\n" "$kind"
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
