package builtins

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/loadstar/loadstar/engine/catalog"
	"github.com/loadstar/loadstar/engine/config"
	"github.com/loadstar/loadstar/internal/golden"
	"github.com/loadstar/loadstar/interp"
)

// TestPrintedValuesAreReadable holds what print() shows of the script API's
// values — a run's result, its metrics, statistics with units, durations,
// plugin values, thresholds, distributions — to testdata/printed.golden
// (refresh with go test ./builtins -run Printed -update).
func TestPrintedValuesAreReadable(t *testing.T) {
	reg, err := catalog.New()
	if err != nil {
		t.Fatal(err)
	}
	env := &Env{Registry: reg, Runtime: &config.Runtime{}, Logger: slog.New(slog.DiscardHandler), Stdout: io.Discard, Stderr: io.Discard}
	pre, err := Predeclared(env)
	if err != nil {
		t.Fatal(err)
	}
	script := `
r = load_results("../testdata/results/run")
print(r)
print(r.metrics)
print(r.metrics.time_to_first_token)
print(r.metrics.inter_token_latency)
print(r.metrics.output_sequence_length)
print(r.metrics.request_throughput)
print(r.metrics.request_count)
print(r.metrics.time_to_first_token.p99, r.metrics.time_to_first_token.p99.ms)
print(r.verdict.issue_delay)
print(r.duration)
print(ms(54.170858), s(90.5), us(3), ns(12), minutes(2), -ms(1.5))
print(endpoint.chat(url = "http://127.0.0.1:8000", model = "m", streaming = True, api_key = "sk-secret-1234"))
print(timing.request_rate(rate = 20, arrival = arrival.gamma(smoothness = 2)))
print(dataset.synthetic(isl = dist.normal(256, 32), osl = 64))
print(threshold("time_to_first_token", "p99 < 500ms"))
print(dist.mix([(0.7, dist.normal(100, 10)), (0.3, dist.fixed(20))]))
print(format(r.request_throughput, ".2f"), "req/s |", format(r.metrics.time_to_first_token.p99, ".1"), "|", format(r.error_rate, ".1%"))
`
	dir := t.TempDir()
	file := filepath.Join(dir, "printed.star")
	if err := os.WriteFile(file, []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	host := interp.New(interp.Options{Predeclared: pre, Stdout: &out, Locals: map[string]any{EnvKey: env}})
	if _, err := host.ExecFile(context.Background(), file); err != nil {
		t.Fatal(err)
	}
	golden.Check(t, "testdata/printed.golden", out.Bytes())
}
