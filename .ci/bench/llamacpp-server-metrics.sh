#!/usr/bin/env bash
# Server metrics against a real llama.cpp server: a short streaming chat run
# with llama-server's Prometheus endpoint scraped (llama-server --metrics),
# then the client-vs-server reconciliation (tokens, requests) printed.
#
#   LLAMA_URL=http://127.0.0.1:8080 bash .ci/bench/llamacpp-server-metrics.sh
#   LLAMA_MODEL=/models/tiny.gguf bash .ci/bench/llamacpp-server-metrics.sh   # starts llama-server
#
# Without a server (no LLAMA_URL, no llama-server on PATH with LLAMA_MODEL)
# it says so and exits 0: nothing to measure.
set -euo pipefail
cd "$(dirname "$0")/../.."

PORT=${PORT:-18180}
REQUESTS=${REQUESTS:-32}
CONCURRENCY=${CONCURRENCY:-4}
OSL=${OSL:-32}
URL=${LLAMA_URL:-}

tmp=$(mktemp -d)
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

if [ -z "$URL" ]; then
  if ! command -v llama-server >/dev/null || [ -z "${LLAMA_MODEL:-}" ]; then
    echo "skip: no llama.cpp server (set LLAMA_URL to one started with --metrics, or put llama-server on PATH and LLAMA_MODEL to a .gguf)"
    exit 0
  fi
  llama-server -m "$LLAMA_MODEL" --metrics --host 127.0.0.1 --port "$PORT" -np "$CONCURRENCY" -c 4096 >"$tmp/server.log" 2>&1 &
  server_pid=$!
  URL="http://127.0.0.1:$PORT"
  for _ in $(seq 600); do
    curl -sf "$URL/health" >/dev/null 2>&1 && break
    kill -0 "$server_pid" 2>/dev/null || { echo "llama-server exited:" >&2; tail -20 "$tmp/server.log" >&2; exit 1; }
    sleep 0.1
  done
fi
if ! curl -sf "$URL/metrics" | grep -q '^llamacpp:'; then
  echo "skip: $URL/metrics has no llamacpp: metrics (start llama-server with --metrics)"
  exit 0
fi
model=$(curl -sf "$URL/v1/models" | sed -n 's/.*"id" *: *"\([^"]*\)".*/\1/p' | head -1)

go build -o "$tmp/loadstar" ./cmd/loadstar
cat >"$tmp/llama.star" <<STAR
run(
    endpoint = endpoint.chat(url = "$URL", model = "${model:-llama}", streaming = True),
    dataset = dataset.synthetic(isl = 64, osl = $OSL),
    timing = timing.concurrency(concurrency = $CONCURRENCY),
    requests = $REQUESTS,
    warmup = 2,
    server_token_count = True,
    artifact_dir = "$tmp/out",
    server_metrics = {"gpu": False},
    ui = "none",
)
STAR
# The console's server section: the figures llama.cpp reports, then the
# client-vs-server reconciliation.
"$tmp/loadstar" run "$tmp/llama.star" >"$tmp/run.out" 2>"$tmp/run.log" || { tail -20 "$tmp/run.log" >&2; exit 1; }
awk '/Server Metrics \(/ {p = 1} p {print} /^Flagged beyond/ {exit}' "$tmp/run.out"
