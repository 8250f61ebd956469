# loadstar tasks. `just` lists them.

# List the recipes.
default:
    @just --list --unsorted

# Build the loadstar binary into ./loadstar.
build:
    go build -o loadstar ./cmd/loadstar

# Run the test suite (the README's test command).
test:
    go test ./...

# Static gates: gofmt, go vet, a Windows build, staticcheck (pinned), go mod tidy, fixture checksums.
lint:
    bash .ci/lint

# Run the race detector on the packages that run goroutines.
race:
    bash .ci/race

# Run every fuzz target briefly (FUZZTIME=1m just fuzz for longer).
fuzz:
    bash .ci/fuzz

# Run a scenario, e.g. `just run scenarios/quickstart.star`.
run FILE *ARGS:
    go run ./cmd/loadstar run {{FILE}} {{ARGS}}

# Run the speed and memory benchmarks (Go benchmarks and .ci/bench scripts).
bench:
    go test -run '^$' -bench . -benchmem ./engine/... ./internal/...
    for s in .ci/bench/*.sh; do [ -e "$s" ] && echo "== $s" && bash "$s"; done

# The product path against wrk (issue 15): `loadstar profile` with default
# exports vs wrk on the same mock, pinned and unpinned, client CPU per
# request, Poisson issue delay; env RUNS, DURATION, MODES, KINDS, SECTIONS.
bench-product:
    bash .ci/bench/product-wrk.sh

# Run what CI runs: lint, the tests, the race detector, plugin validation.
ci:
    bash .ci/run

# Refresh golden files and generated docs after an intended output change
# (every package whose tests import internal/golden; check the diff after).
update-golden:
    go test $(go list -f '{{{{.ImportPath}} {{{{join .TestImports " "}} {{{{join .XTestImports " "}}' ./... | awk '$0 ~ /internal\/golden/ {print $1}') -update

# profile_export.parquet read back by hyparquet and arrow-rs (parquet-wasm),
# every row compared with profile_export.jsonl; needs node and npm.
interop-parquet:
    bash .ci/interop/parquet.sh
