#!/usr/bin/env bash
# Screenshots loadstar's HTML report in headless Chromium, when Chromium is
# installed (apt-get install chromium); otherwise says so and exits 0.
#
#   bash .ci/report_screenshot.sh [OUT_DIR]
#
# It draws the report of the sweep fixture and of the single-run fixture
# (testdata/results), checks that each screenshot is a PNG showing charts, and
# leaves report-*.html and report-*.png in OUT_DIR (default a temporary
# directory) for a person to look at. LOADSTAR names a built binary to use.
set -euo pipefail
cd "$(dirname "$0")/.."

chrome=$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)
if [ -z "$chrome" ]; then
    echo "report screenshot: skipped (no chromium; apt-get install -y chromium)"
    exit 0
fi
out=${1:-$(mktemp -d)}
mkdir -p "$out"
bin=${LOADSTAR:-}
if [ -z "$bin" ]; then
    bin=$(mktemp -d)/loadstar
    go build -o "$bin" ./cmd/loadstar
fi

shot() { # name, then the report's arguments
    local name=$1; shift
    "$bin" report "$@" -o "$out/report-$name.html"
    local profile
    profile=$(mktemp -d)
    timeout 120 "$chrome" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync \
        --user-data-dir="$profile" --window-size=1400,2400 --hide-scrollbars \
        --screenshot="$out/report-$name.png" --virtual-time-budget=3000 \
        "file://$(cd "$out" && pwd)/report-$name.html" >/dev/null 2>&1
    rm -rf "$profile"
    go run ./.ci/pngcheck "$out/report-$name.png"
    echo "report-$name.html: $(du -k "$out/report-$name.html" | cut -f1) KB; screenshot $out/report-$name.png"
}
shot run testdata/results/run
shot sweep testdata/results/sweep
