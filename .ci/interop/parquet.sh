#!/usr/bin/env bash
# profile_export.parquet read by other Parquet implementations than the one
# that wrote it: hyparquet (JavaScript) and arrow-rs (Rust, as parquet-wasm).
# Runs `loadstar profile` against `loadstar mock --fast` three times — a
# non-streaming run, a streaming run (the repeated inter_chunk_latency
# column) and a streaming run with 20 % injected server errors (the error
# columns, null metrics) — and has .ci/interop/parquet/check.mjs compare
# every row with profile_export.jsonl. Needs node and npm (the npm registry
# for the pinned readers); not part of .ci/run.
#
#   bash .ci/interop/parquet.sh        # or: just interop-parquet
#   REQUESTS=50000 bash .ci/interop/parquet.sh
set -euo pipefail
cd "$(dirname "$0")/../.."

REQUESTS=${REQUESTS:-5000}
PORT=${PORT:-18140}
command -v node >/dev/null && command -v npm >/dev/null || { echo "interop-parquet needs node and npm" >&2; exit 1; }

tmp=$(mktemp -d)
mock_pid=""
cleanup() {
  if [ -n "$mock_pid" ]; then kill "$mock_pid" 2>/dev/null || true; wait "$mock_pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

cp .ci/interop/parquet/package.json .ci/interop/parquet/package-lock.json .ci/interop/parquet/check.mjs "$tmp/"
(cd "$tmp" && npm ci --no-audit --no-fund --silent)

go build -o "$tmp/loadstar" ./cmd/loadstar

# run NAME MOCK_ARGS -- PROFILE_ARGS: one mock, one profile run into $tmp/NAME.
run() {
  local name=$1; shift
  local mock_args=()
  while [ "$1" != -- ]; do mock_args+=("$1"); shift; done
  shift
  "$tmp/loadstar" mock --fast --port "$PORT" --log-level warn "${mock_args[@]}" >/dev/null 2>"$tmp/mock.log" &
  mock_pid=$!
  for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break; sleep 0.05; done
  "$tmp/loadstar" profile -m mock-model -u "http://127.0.0.1:$PORT" --isl 16 --osl 16 --concurrency 16 \
    --request-count "$REQUESTS" --ui-type none --log-level warn --artifact-dir "$tmp/$name" "$@" >/dev/null 2>"$tmp/$name.log" ||
    { echo "loadstar profile failed:" >&2; cat "$tmp/$name.log" >&2; exit 1; }
  kill "$mock_pid"; wait "$mock_pid" 2>/dev/null || true; mock_pid=""
  node "$tmp/check.mjs" "$tmp/$name/profile_export.parquet" "$tmp/$name/profile_export.jsonl"
}

run chat --
run stream -- --streaming
run errors --error-rate 0.2 -- --streaming
