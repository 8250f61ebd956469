package outputs_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/loadstar/loadstar/engine/config"
	"github.com/loadstar/loadstar/engine/errext"
	"github.com/loadstar/loadstar/engine/mock"
	"github.com/loadstar/loadstar/engine/plugin"
	"github.com/loadstar/loadstar/engine/runner"
	"github.com/loadstar/loadstar/internal/outputs"
)

func mockStep(t *testing.T) (*plugin.Registry, *config.Benchmark) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	srv, err := mock.Start(ctx, mock.Config{Fast: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	reg, err := outputs.NewRegistry()
	if err != nil {
		t.Fatal(err)
	}
	cfg := config.Defaults()
	cfg.Endpoint = &plugin.Spec{Category: plugin.Endpoint, Name: "chat",
		Args: plugin.Args{"url": srv.URL(), "model": "org/mock-model", "streaming": true}}
	cfg.Timing = &plugin.Spec{Category: plugin.TimingStrategy, Name: "concurrency", Args: plugin.Args{"concurrency": int64(2)}}
	cfg.Stop = config.Stop{Requests: 12}
	cfg.Warmup = &config.Warmup{Stop: config.Stop{Requests: 3}}
	cfg.Seed, cfg.SeedSet = 42, true
	cfg.UI = "simple"
	return reg, &cfg
}

// Run attaches every output to a step: the artifacts in the directory
// AIPerf would name, the progress UI, and the console report printed from
// the results.
func TestRunWritesEveryOutput(t *testing.T) {
	reg, cfg := mockStep(t)
	cfg.Output.Root = t.TempDir()
	var report, progress strings.Builder
	sum, err := outputs.Run(context.Background(), reg, cfg, nil, outputs.Config{Stdout: &report, Progress: &progress})
	if err != nil {
		t.Fatal(err)
	}
	want := filepath.Join(cfg.Output.Root, "org_mock-model-openai-chat-concurrency2")
	if sum.Info.ArtifactDir != want {
		t.Errorf("artifact dir %q, want %q", sum.Info.ArtifactDir, want)
	}
	for _, kind := range []string{"json", "csv", "jsonl", "parquet", "inputs"} {
		if p := sum.Files[kind]; p == "" || filepath.Dir(p) != want {
			t.Errorf("%s artifact %q (files %v)", kind, p, sum.Files)
		} else if _, err := os.Stat(p); err != nil {
			t.Error(err)
		}
	}
	if lines := strings.Count(readFile(t, sum.Files["jsonl"]), "\n"); lines != 15 {
		t.Errorf("%d JSONL lines, want 12 profiling + 3 warmup", lines)
	}
	if r := report.String(); !strings.Contains(r, "Request Latency") || !strings.Contains(r, "12") || !strings.Contains(r, sum.Files["json"]) {
		t.Errorf("console report:\n%s", r)
	}
	if p := progress.String(); !strings.Contains(p, "profiling") || !strings.Contains(p, "warmup") {
		t.Errorf("progress UI:\n%q", p)
	}
}

// A step that cannot be planned leaves nothing behind: no directory, no
// UI, no report.
func TestRunInvalidStepWritesNothing(t *testing.T) {
	reg, cfg := mockStep(t)
	cfg.Output.ArtifactDir = filepath.Join(t.TempDir(), "out")
	cfg.Endpoint.Args["streaming"] = false
	cfg.SLOs = []config.SLO{{Metric: "time_to_first_token", Op: "<=", Threshold: 1e6}}
	var report, progress strings.Builder
	_, err := outputs.Run(context.Background(), reg, cfg, nil, outputs.Config{Stdout: &report, Progress: &progress})
	if err == nil || !strings.Contains(err.Error(), "needs streaming") || errext.ExitCodeOf(err) != errext.InvalidConfig {
		t.Fatalf("err %v", err)
	}
	if _, err := os.Stat(cfg.Output.ArtifactDir); !os.IsNotExist(err) {
		t.Errorf("artifact directory created for an invalid step: %v", err)
	}
	if report.Len()+progress.Len() > 0 {
		t.Errorf("output for an invalid step: %q %q", report.String(), progress.String())
	}
}

// Ctrl-C: the step stops, and what was measured is written and reported.
func TestRunInterruptedWritesWhatWasMeasured(t *testing.T) {
	reg, cfg := mockStep(t)
	cfg.Output.ArtifactDir = t.TempDir()
	cfg.Stop = config.Stop{Duration: time.Minute}
	cfg.Warmup = nil
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ctrlC := runner.ObserverFunc(func(p runner.Progress) {
		if p.Completed >= 4 {
			cancel()
		}
	})
	var report strings.Builder
	sum, err := outputs.Run(ctx, reg, cfg, nil, outputs.Config{Stdout: &report}, runner.WithObserver(ctrlC))
	if err != nil {
		t.Fatal(err)
	}
	if !sum.Info.WasCancelled || !strings.Contains(readFile(t, sum.Files["json"]), `"was_cancelled": true`) {
		t.Errorf("cancelled run not marked: %+v", sum.Info)
	}
	if !strings.Contains(report.String(), "Request Latency") {
		t.Errorf("no report after Ctrl-C:\n%s", report.String())
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// A process that must exit at once (a second Ctrl-C) first flushes the
// running step's record streams: what the file holds then is whole JSON
// lines, every record handed over so far.
func TestRunFlushesForImmediateExit(t *testing.T) {
	reg, cfg := mockStep(t)
	cfg.Output.ArtifactDir = filepath.Join(t.TempDir(), "out")
	cfg.Warmup = nil
	cfg.Stop = config.Stop{Requests: 1_000_000}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var flush func()
	var snapshot string
	exitAfter := runner.WithObserver(runner.ObserverFunc(func(p runner.Progress) {
		if flush != nil && snapshot == "" && p.Completed >= 50 {
			flush() // as the second Ctrl-C does, before os.Exit
			snapshot = readFile(t, filepath.Join(cfg.Output.ArtifactDir, "profile_export.jsonl"))
			cancel()
		}
	}))
	oc := outputs.Config{OnExit: func(f func()) func() { flush = f; return func() { flush = nil } }}
	if _, err := outputs.Run(ctx, reg, cfg, nil, oc, exitAfter); err != nil {
		t.Fatal(err)
	}
	if flush != nil {
		t.Error("the step's flush was not forgotten when it ended")
	}
	if snapshot == "" {
		t.Fatal("nothing was on disk after the flush")
	}
	lines := strings.Split(strings.TrimSuffix(snapshot, "\n"), "\n")
	for i, l := range lines {
		if !json.Valid([]byte(l)) {
			t.Fatalf("line %d of %d is not whole JSON: %.80q", i+1, len(lines), l)
		}
	}
}
