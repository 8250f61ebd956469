#!/usr/bin/env bash
# Sharded run (issue #19): one request_rate benchmark driven by one process,
# then by SHARDS processes (loadstar run --shard I/N, a common --start-at),
# merged with loadstar merge. The point is a rate one process cannot drive
# on its CPU: the single run misses its schedule (rate shortfall, issue
# delay), the shards together keep it.
#
#   bash .ci/bench/shards.sh                       # 4 shards, 8,000 req/s, 10 s
#   SHARDS=4 RATE=20000 DURATION=10s bash .ci/bench/shards.sh
#
# Each process is pinned to one CPU (taskset), shard I to CPU I mod the CPU
# count, the fast mock to the last CPU. On a machine with fewer CPUs than
# shards + 1 the shards share CPUs with each other and the mock: the script
# says so, and the comparison is then of processes, not of cores.
set -euo pipefail
cd "$(dirname "$0")/../.."
SHARDS=${SHARDS:-4}
RATE=${RATE:-8000}
DURATION=${DURATION:-10s}
PORT=${PORT:-18191}
LEAD=${LEAD:-20}
cpus=$(nproc)
tmp=$(mktemp -d)
trap 'kill $mock 2>/dev/null || true; rm -rf "$tmp"' EXIT
go build -o "$tmp/loadstar" ./cmd/loadstar
bin="$tmp/loadstar"
last=$((cpus - 1))
taskset -c "$last" "$bin" mock --fast --port "$PORT" >"$tmp/mock.log" 2>&1 &
mock=$!
sleep 1
cat >"$tmp/bench.star" <<STAR
run(
    endpoint = endpoint.chat(url = "http://127.0.0.1:$PORT", model = "mock", streaming = False),
    dataset = dataset.synthetic(isl = 16, osl = 4),
    timing = timing.request_rate(rate = $RATE),
    duration = "$DURATION",
    seed = 19,
)
STAR
echo "$cpus CPUs; $SHARDS shards; load before: $(cut -d' ' -f1-3 /proc/loadavg)"
[ "$cpus" -gt "$SHARDS" ] || echo "note: fewer CPUs than shards + mock: shards share CPUs; the figures compare processes, not cores"

summary() { # DIR: achieved/scheduled rate, shortfall, issue delay p99 from the summary JSON
  python3 - "$1" <<'PY'
import json, sys, glob
p = glob.glob(sys.argv[1] + "/**/profile_export_aiperf.json", recursive=True)[0]
d = json.load(open(p)); v = d["loadstar"]["verdict"]
print(f"requests {int(d['request_count']['avg'])}, schedule {v['schedule_rate']:.0f} req/s, achieved {v['achieved_rate']:.0f} req/s, "
      f"shortfall {v['rate_shortfall_pct']:.2f}%, issue delay p99 {d.get('issue_delay', {}).get('p99', float('nan'))} ms, {v['status']}")
PY
}

(cd "$tmp" && taskset -c 0 "$bin" run bench.star --artifacts single >single.log 2>&1) || true
echo "1 process:   $(summary "$tmp/single")"

start=$(date -u -d "+$LEAD sec" +%Y-%m-%dT%H:%M:%SZ)
pids=()
for i in $(seq 0 $((SHARDS - 1))); do
  (cd "$tmp" && taskset -c $((i % cpus)) "$bin" run bench.star --shard "$i/$SHARDS" --start-at "$start" --artifacts "shard-$i" >"shard-$i.log" 2>&1) &
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || true; done
shards=()
for i in $(seq 0 $((SHARDS - 1))); do shards+=("$tmp/shard-$i"); done
"$bin" merge "${shards[@]}" -o "$tmp/merged" -q | tail -1
echo "$SHARDS shards:  $(summary "$tmp/merged")"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
