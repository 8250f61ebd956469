# Sourced by the wrk bench scripts: makes sure wrk (installed from apt when
# missing) and taskset are there.
require_wrk_and_taskset() {
  if ! command -v wrk >/dev/null; then
    echo "installing wrk"
    local sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
    $sudo apt-get install -y -q wrk >/dev/null 2>&1 || { $sudo apt-get update -q >/dev/null && $sudo apt-get install -y -q wrk >/dev/null; }
  fi
  command -v taskset >/dev/null || { echo "taskset (util-linux) is required" >&2; exit 1; }
}
