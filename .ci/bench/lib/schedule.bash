# Shared helpers of the .ci/bench/schedule-*.sh scripts (sourced, not run;
# kept out of .ci/bench/*.sh so `just bench` does not run it).
# They build the loadstar binary (mock server) and the runner's bench-tag
# test binary (TestDriveRun, the client), start the mock pinned to one CPU
# and run the client pinned to the other.

set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../../.."

SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
command -v taskset >/dev/null || { echo "taskset (util-linux) is required" >&2; exit 1; }

tmp=$(mktemp -d)
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

go build -o "$tmp/loadstar" ./cmd/loadstar
go test -c -tags bench -o "$tmp/runner.test" ./engine/runner

# start_mock PORT ARGS... starts `loadstar mock` pinned to SERVER_CPU.
start_mock() {
  local port=$1; shift
  taskset -c "$SERVER_CPU" "$tmp/loadstar" mock --port "$port" --log-level warn "$@" >"$tmp/mock.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  echo "mock did not start:" >&2; cat "$tmp/mock.log" >&2; exit 1
}

# drive ARGS... runs the client (TestDriveRun) pinned to CLIENT_CPU.
drive() {
  taskset -c "$CLIENT_CPU" "$tmp/runner.test" -test.run '^TestDriveRun$' -test.timeout 30m "$@"
}

median() { sort -g | awk '{a[NR]=$1} END {if (NR == 0) print "nan"; else print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

loadavg() { cut -d' ' -f1-3 /proc/loadavg; }
