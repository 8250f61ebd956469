#!/usr/bin/env bash
# Client CPU and allocations per SSE chunk on the read-parse-timestamp path
# (issue #4 target: <= 1 us and <= 1 allocation per chunk), with a trivial
# handler, a handler appending text to the record, and engine/endpoint's chat
# parser; plus whole requests in memory (the client's own CPU) and against an
# in-process fasthttp server.
#
#   bash .ci/bench/transport-hotpath.sh         # COUNT=6 samples each
set -euo pipefail
cd "$(dirname "$0")/../.."
COUNT=${COUNT:-6}
out=$(mktemp)
trap 'rm -f "$out"' EXIT
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
go test -tags bench -run '^$' -bench 'StreamReadPath|Loopback|DoInMemory' -benchmem -count "$COUNT" ./internal/transport | tee "$out"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "median of $COUNT (StreamReadPath*: per SSE chunk, in-memory connection; DoInMemory, DoLoopback: per request;"
echo "DoStreamLoopback: per chunk including the server and the kernel):"
for name in $(awk '/^Benchmark/ {sub(/-[0-9]+$/, "", $1); print $1}' "$out" | sort -u); do
  ns=$(awk -v n="$name" '$1 ~ "^"n"(-[0-9]+)?$" {print $3}' "$out" | sort -g |
       awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}')
  allocs=$(awk -v n="$name" '$1 ~ "^"n"(-[0-9]+)?$" {for (i=1; i<NF; i++) if ($(i+1)=="allocs/op") print $i}' "$out" | sort -g | tail -n1)
  printf "  %-36s %9.1f ns/op  %s allocs/op (max)\n" "$name" "$ns" "$allocs"
done
