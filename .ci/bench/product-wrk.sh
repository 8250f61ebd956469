#!/usr/bin/env bash
# The product path against the physical limit (issue #15): `loadstar profile`
# with its default exports (JSON, CSV, JSONL, Parquet, inputs.json, server
# metrics) against `loadstar mock --fast`, side by side with wrk sending the
# same request body to the same mock, concurrency 64.
#
#   bash .ci/bench/product-wrk.sh                        # everything, 5 runs each
#   RUNS=3 DURATION=3 MODES=pinned KINDS=chat bash .ci/bench/product-wrk.sh
#   LOADSTAR=/tmp/old/loadstar bash .ci/bench/product-wrk.sh   # another build
#   BASELINE=/tmp/old/loadstar bash .ci/bench/product-wrk.sh   # this build and an
#       older one in the same runs (wrk, loadstar, baseline in turn)
#
# Sections (SECTIONS, default all of them):
#   throughput  non-streaming (chat) and streaming 16 tokens (stream), pinned
#               (mock on SERVER_CPU, client on CLIENT_CPU) and unpinned: the
#               median of RUNS alternating wrk/loadstar runs, the median of
#               the paired ratios (targets >= 0.85 chat, >= 0.7 stream), and
#               loadstar's client CPU per request;
#   poisson     Poisson arrivals at POISSON_RATE req/s, streaming, client
#               pinned: issue delay p99 (target <= 1 ms in every run) and
#               achieved/target rate (within 0.5 %);
#   startup     a one-request run, wall time and CPU (the fixed cost).
#
# Client CPU per request is given two ways: "phase" is the CPU the run's own
# monitor measured over the profiling phase (client_health.cpu_share ×
# cpus × duration) per request; "process" is the whole process's user+sys
# CPU (getrusage of the child, so the exports written after the phase count)
# less a one-request run's, per request. Targets: <= 15 us non-streaming,
# <= 30 us per 16-token stream. wrk's own user+sys CPU per request is
# printed beside them: the cost of the loopback itself on this machine.
#
# Every run also prints the machine's steal time (the share of CPU time the
# hypervisor gave to other guests while the run lasted, from /proc/stat): on
# a virtual machine a run with steal of a few percent or more measures the
# neighbours, not loadstar, and its issue delays reach milliseconds. The
# summaries add the medians of the quiet runs alone: those where wrk's and
# the client's steal (or the Poisson run's) stayed under QUIET_STEAL %.
set -euo pipefail
cd "$(dirname "$0")/../.."

RUNS=${RUNS:-5}
DURATION=${DURATION:-5}
CONNS=${CONNS:-64}
TOKENS=${TOKENS:-16}
ISL=${ISL:-16}
PORT=${PORT:-18110}
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
MODES=${MODES:-"pinned unpinned"}
KINDS=${KINDS:-"chat stream"}
SECTIONS=${SECTIONS:-"startup throughput poisson"}
POISSON_RUNS=${POISSON_RUNS:-5}
POISSON_RATE=${POISSON_RATE:-2000}
POISSON_DURATION=${POISSON_DURATION:-10}
QUIET_STEAL=${QUIET_STEAL:-1}
URL="http://127.0.0.1:${PORT}"

. .ci/bench/lib/wrk.bash # the working directory is the repository root
require_wrk_and_taskset

tmp=$(mktemp -d)
server_pid=""
stop_mock() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  server_pid=""
}
cleanup() { stop_mock; rm -rf "$tmp"; }
trap cleanup EXIT

bin=${LOADSTAR:-}
if [ -z "$bin" ]; then
  go build -o "$tmp/loadstar" ./cmd/loadstar
  bin=$tmp/loadstar
fi
# The loadstar builds measured: this one, and BASELINE when given.
clients=(loadstar)
declare -A binary=([loadstar]=$bin)
if [ -n "${BASELINE:-}" ]; then clients+=(baseline); binary[baseline]=$BASELINE; fi

# start_mock PIN: `loadstar mock --fast`, pinned to SERVER_CPU or not.
start_mock() {
  stop_mock
  local pin=()
  [ "$1" = pinned ] && pin=(taskset -c "$SERVER_CPU")
  "${pin[@]}" "$bin" mock --fast --port "$PORT" --log-level warn >"$tmp/mock.out" 2>"$tmp/mock.log" &
  server_pid=$!
  for _ in $(seq 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then return 0; fi
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.05
  done
  echo "mock did not start:" >&2; cat "$tmp/mock.log" >&2; exit 1
}

# jget FILE BLOCK FIELD prints the first "FIELD": value after the first
# "BLOCK": key of a pretty-printed JSON summary (BLOCK may be "" ).
jget() {
  awk -v b="\"$2\":" -v f="\"$3\":" '
    !in_b && (b == "\"\":" || index($0, b)) { in_b = 1 }
    in_b && index($0, f) { v = substr($0, index($0, f) + length(f)); gsub(/[ ,]/, "", v); print v; exit }' "$1"
}

median() { sort -g | awk '{a[NR]=$1} END {if (NR == 0) print "nan"; else print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }
# cpu_ticks prints the machine's total and stolen CPU ticks (/proc/stat: user
# nice system idle iowait irq softirq steal; guest time is inside user).
cpu_ticks() { awk '/^cpu / {print $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9, $9; exit}' /proc/stat; }
# steal_since TOTAL STOLEN prints the percentage of ticks stolen since then.
steal_since() {
  read -r t s < <(cpu_ticks)
  awk -v t0="$1" -v s0="$2" -v t="$t" -v s="$s" 'BEGIN {printf "%.1f", (t > t0) ? (s - s0) / (t - t0) * 100 : 0}'
}

# profile_args KIND: the loadstar profile command line of a run.
profile_args() {
  local a=(profile -m mock-model -u "$URL" --isl "$ISL" --osl "$TOKENS" --ui-type none --log-level warn)
  [ "$1" = stream ] && a+=(--streaming)
  printf '%s\n' "${a[@]}"
}

# run_profile CLIENT NAME PIN EXTRA... runs CLIENT's loadstar profile into
# $tmp/NAME and prints "req/s cpu_seconds requests phase_cpu_seconds
# steal_percent" (CPU: user+sys of the whole process).
run_profile() {
  local exe=${binary[$1]} name=$2 pin=$3; shift 3
  local dir=$tmp/$name p=()
  rm -rf "$dir"
  [ "$pin" = pinned ] && p=(taskset -c "$CLIENT_CPU")
  local TIMEFORMAT='%3U %3S' t0 s0 st
  read -r t0 s0 < <(cpu_ticks)
  { time "${p[@]}" "$exe" "$@" --artifact-dir "$dir" >"$dir.out" 2>"$dir.err"; } 2>"$dir.time" ||
    { echo "loadstar failed:" >&2; tail -20 "$dir.err" >&2; exit 1; }
  st=$(steal_since "$t0" "$s0")
  local j=$dir/profile_export_aiperf.json
  local rps n dur share cpus
  rps=$(jget "$j" request_throughput avg); n=$(jget "$j" request_count avg); dur=$(jget "$j" benchmark_duration avg)
  share=$(jget "$j" client_health cpu_share); cpus=$(jget "$j" client_health cpus)
  read -r u sy <"$dir.time"
  awk -v r="$rps" -v u="$u" -v sy="$sy" -v n="$n" -v s="$share" -v c="$cpus" -v d="$dur" -v st="$st" \
    'BEGIN {printf "%s %.3f %d %.4f %s\n", r, u + sy, n, s * c * d, st}'
}

# run_wrk KIND PIN prints "req/s cpu_us_per_request steal_percent" (wrk's
# user+sys CPU: the client-side cost of the physical limit, beside loadstar's).
run_wrk() {
  local p=() out TIMEFORMAT='%3U %3S' t0 s0 st
  [ "$2" = pinned ] && p=(taskset -c "$CLIENT_CPU")
  read -r t0 s0 < <(cpu_ticks)
  { time "${p[@]}" wrk -t1 -c"$CONNS" -d"${DURATION}s" -s "$tmp/$1.lua" "$URL/v1/chat/completions" >"$tmp/wrk.out"; } 2>"$tmp/wrk.time"
  st=$(steal_since "$t0" "$s0")
  read -r u sy <"$tmp/wrk.time"
  awk -v u="$u" -v sy="$sy" -v st="$st" '/^Requests\/sec:/ {r = $2} / requests in / {n = $1}
    END {printf "%s %.2f %s\n", r, (n > 0 ? (u + sy) / n * 1e6 : 0), st}' "$tmp/wrk.out"
}

# write_wrk_script KIND: a POST of the first payload loadstar sends.
write_wrk_script() {
  local kind=$1
  mapfile -t args < <(profile_args "$kind")
  "$bin" "${args[@]}" --request-count 1 --no-server-metrics --artifact-dir "$tmp/body-$kind" >/dev/null 2>&1
  # The first payload of inputs.json, its lines joined (strings hold no raw
  # newline): from the line opening it to the line closing it at its indent.
  local body
  body=$(awk '/"payloads": \[/ && !f {f = 1; next}
    f == 1 {ind = $0; sub(/[^ ].*/, "", ind); f = 2}
    f == 2 {line = $0; sub(/^ +/, "", line); printf "%s", line; if ($0 == ind "}") exit}' "$tmp/body-$kind/inputs.json")
  # Lua long brackets keep the JSON as it is.
  cat >"$tmp/$kind.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = [==[$body]==]
LUA
  curl -sf "$URL/v1/chat/completions" -H 'Content-Type: application/json' --data-binary "$body" -o "$tmp/check-$kind"
  if [ "$kind" = stream ]; then grep -q 'data: \[DONE\]' "$tmp/check-$kind"; else grep -q '"completion_tokens":'"$TOKENS" "$tmp/check-$kind"; fi ||
    { echo "the mock answered the $kind body unexpectedly" >&2; exit 1; }
}

for c in "${clients[@]}"; do echo "$c: ${binary[$c]} ($("${binary[$c]}" version 2>/dev/null | head -1 || true))"; done
echo "load before: $(loadavg); $(nproc) CPUs"

section() { [[ " $SECTIONS " == *" $1 "* ]]; }
declare -A fixed_cpu

if section startup || section throughput; then
  start_mock unpinned
  for c in "${clients[@]}"; do
    : >"$tmp/startup"
    for i in 1 2 3; do
      s=$(date +%s.%N)
      out=$(run_profile "$c" "one-$c-$i" unpinned $(profile_args chat) --request-count 1)
      e=$(date +%s.%N)
      echo "$(awk -v s="$s" -v e="$e" 'BEGIN {print e - s}') $(cut -d' ' -f2 <<<"$out")" >>"$tmp/startup"
    done
    wall=$(cut -d' ' -f1 "$tmp/startup" | median); fixed_cpu[$c]=$(cut -d' ' -f2 "$tmp/startup" | median)
    section startup && printf "%s startup: a one-request run takes %.3f s wall, %.3f s CPU (median of 3; target about 0.3 s)\n" "$c" "$wall" "${fixed_cpu[$c]}"
  done
fi

# measure KIND MODE RUN: one run of wrk and of every client, the order
# turning with RUN so that slow drifts in load even out; appends to
# $tmp/<client>.{rps,ratio,cp,cf} and prints the run.
measure() {
  local kind=$1 mode=$2 i=$3 order=(wrk "${clients[@]}") w line
  local k=$(( i % ${#order[@]} ))
  order=("${order[@]:k}" "${order[@]:0:k}")
  mapfile -t args < <(profile_args "$kind")
  args+=(--concurrency "$CONNS" --benchmark-duration "$DURATION")
  declare -A got
  for c in "${order[@]}"; do
    if [ "$c" = wrk ]; then got[wrk]=$(run_wrk "$kind" "$mode"); else got[$c]=$(run_profile "$c" "$kind-$mode-$c-$i" "$mode" "${args[@]}"); fi
  done
  read -r w wcpu wst <<<"${got[wrk]}"
  echo "$wcpu" >>"$tmp/wrk.cpu"
  line="  run $i: wrk $(printf %.0f "$w") req/s, CPU $wcpu us/request, steal $wst %"
  for c in "${clients[@]}"; do
    read -r rps cpu n phase st <<<"${got[$c]}"
    echo "$rps" >>"$tmp/$c.rps"
    awk -v w="$w" -v l="$rps" 'BEGIN {print l / w}' >>"$tmp/$c.ratio"
    awk -v c="$phase" -v n="$n" 'BEGIN {print c / n * 1e6}' >>"$tmp/$c.cp"
    awk -v c="$cpu" -v f="${fixed_cpu[$c]:-0}" -v n="$n" 'BEGIN {print (c - f) / n * 1e6}' >>"$tmp/$c.cf"
    awk -v c="$(tail -1 "$tmp/$c.cp")" -v w="$wcpu" 'BEGIN {print (w > 0 ? c / w : 0)}' >>"$tmp/$c.cpuratio"
    if awk -v a="$wst" -v b="$st" -v q="$QUIET_STEAL" 'BEGIN {exit !(a < q && b < q)}'; then
      tail -1 "$tmp/$c.ratio" >>"$tmp/$c.qratio"; tail -1 "$tmp/$c.cp" >>"$tmp/$c.qcp"
    fi
    line+=$(printf "; %s %.0f req/s (%.3f), CPU %.2f us/request phase (%.2fx wrk), %.2f process, steal %s %%" "$c" "$rps" "$(tail -1 "$tmp/$c.ratio")" \
      "$(tail -1 "$tmp/$c.cp")" "$(tail -1 "$tmp/$c.cpuratio")" "$(tail -1 "$tmp/$c.cf")" "$st")
  done
  echo "$line"
  echo "$w" >>"$tmp/wrk.rps"
}

if section throughput; then
  for mode in $MODES; do
    start_mock "$mode"
    for kind in $KINDS; do
      write_wrk_script "$kind"
      rm -f "$tmp"/*.rps "$tmp"/*.ratio "$tmp"/*.cp "$tmp"/*.cf "$tmp"/*.cpuratio "$tmp"/wrk.cpu "$tmp"/*.qratio "$tmp"/*.qcp
      echo "== $kind, $mode (mock $( [ "$mode" = pinned ] && echo "on CPU $SERVER_CPU, clients on CPU $CLIENT_CPU" || echo "and clients unpinned")), c=$CONNS, ${DURATION}s x $RUNS; load $(loadavg)"
      for i in $(seq "$RUNS"); do measure "$kind" "$mode" "$i"; done
      target=0.85; cpu_target=15
      [ "$kind" = stream ] && { target=0.7; cpu_target=30; }
      for c in "${clients[@]}"; do
        awk -v w="$(median <"$tmp/wrk.rps")" -v l="$(median <"$tmp/$c.rps")" -v r="$(median <"$tmp/$c.ratio")" -v t="$target" \
          -v cp="$(median <"$tmp/$c.cp")" -v wc="$(median <"$tmp/wrk.cpu")" -v cf="$(median <"$tmp/$c.cf")" -v cr="$(median <"$tmp/$c.cpuratio")" -v ct="$cpu_target" -v k="$kind" -v m="$mode" -v c="$c" -v ld="$(loadavg)" 'BEGIN {
          printf "%s %s %s median: wrk %.0f req/s, %.0f req/s, paired ratio %.3f (target >= %s) %s; client CPU %.2f us/request phase, %.2f process (target <= %s) %s; wrk itself %.2f us/request, client phase CPU %.2fx wrk CPU (paired); load %s\n",
            c, k, m, w, l, r, t, (r >= t ? "PASS" : "MISS"), cp, cf, ct, (cf <= ct ? "PASS" : "MISS"), wc, cr, ld
        }'
        q=0; [ -s "$tmp/$c.qratio" ] && q=$(wc -l <"$tmp/$c.qratio")
        if [ "$q" -gt 0 ]; then
          printf "%s %s %s quiet runs (steal < %s %%): %d of %d, paired ratio %.3f %s, client CPU %.2f us/request phase\n" "$c" "$kind" "$mode" \
            "$QUIET_STEAL" "$q" "$RUNS" "$(median <"$tmp/$c.qratio")" "$(awk -v r="$(median <"$tmp/$c.qratio")" -v t="$target" 'BEGIN {print (r >= t) ? "PASS" : "MISS"}')" "$(median <"$tmp/$c.qcp")"
        else
          echo "$c $kind $mode quiet runs (steal < $QUIET_STEAL %): none"
        fi
      done
    done
  done
fi

if section poisson; then
  start_mock pinned
  echo "== poisson $POISSON_RATE req/s streaming ${TOKENS} tokens, ${POISSON_DURATION}s x $POISSON_RUNS; mock on CPU $SERVER_CPU, client on CPU $CLIENT_CPU; load $(loadavg)"
  for c in "${clients[@]}"; do : >"$tmp/$c.pp"; : >"$tmp/$c.pr"; : >"$tmp/$c.pass"; : >"$tmp/$c.qpass"; done
  for i in $(seq "$POISSON_RUNS"); do
    order=("${clients[@]}")
    [ $((i % 2)) = 0 ] && order=($(printf '%s\n' "${clients[@]}" | tac))
    for c in "${order[@]}"; do
      mapfile -t args < <(profile_args stream)
      args+=(--request-rate "$POISSON_RATE" --request-rate-mode poisson --benchmark-duration "$POISSON_DURATION")
      out=$(run_profile "$c" "poisson-$c-$i" pinned "${args[@]}")
      st=${out##* }
      j=$tmp/poisson-$c-$i/profile_export_aiperf.json
      p99=$(jget "$j" issue_delay p99); ach=$(jget "$j" verdict achieved_rate); sch=$(jget "$j" verdict scheduled_rate)
      ratio=$(awk -v a="$ach" -v s="$sch" 'BEGIN {print a / s}')
      ok=$(awk -v p="$p99" -v r="$ratio" 'BEGIN {d = r > 1 ? r - 1 : 1 - r; print (p <= 1 && d <= 0.005) ? 1 : 0}')
      echo "$p99" >>"$tmp/$c.pp"; echo "$ratio" >>"$tmp/$c.pr"; echo "$ok" >>"$tmp/$c.pass"
      awk -v a="$st" -v q="$QUIET_STEAL" 'BEGIN {exit !(a < q)}' && echo "$ok" >>"$tmp/$c.qpass"
      printf "  run %d %s: issue delay p99 %.4f ms, achieved/target %.5f, steal %s %% %s\n" "$i" "$c" "$p99" "$ratio" "$st" "$( [ "$ok" = 1 ] && echo ok || echo MISS)"
    done
  done
  for c in "${clients[@]}"; do
    pass=$(awk '{s += $1} END {print s + 0}' "$tmp/$c.pass")
    printf "%s poisson: %d of %d runs within p99 <= 1 ms and 0.5 %% of the rate %s; median p99 %.4f ms (worst %.4f), median achieved/target %.5f; load %s\n" \
      "$c" "$pass" "$POISSON_RUNS" "$( [ "$pass" = "$POISSON_RUNS" ] && echo PASS || echo MISS)" "$(median <"$tmp/$c.pp")" \
      "$(sort -g "$tmp/$c.pp" | tail -1)" "$(median <"$tmp/$c.pr")" "$(loadavg)"
    q=$(wc -l <"$tmp/$c.qpass"); qp=$(awk '{s += $1} END {print s + 0}' "$tmp/$c.qpass")
    echo "$c poisson quiet runs (steal < $QUIET_STEAL %): $qp of $q within the targets"
  done
fi
echo "load after: $(loadavg)"
