package builtins

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"sync"

	"go.starlark.net/starlark"

	"github.com/loadstar/loadstar/engine/config"
	"github.com/loadstar/loadstar/engine/plugin"
	"github.com/loadstar/loadstar/engine/results"
	"github.com/loadstar/loadstar/engine/runner"
)

// Env is the host-side state of one script execution that run() and its
// friends use. The command creates one, hands it to Predeclared and attaches
// it to every thread (interp.Options.Locals[EnvKey]).
type Env struct {
	Registry *plugin.Registry
	Runtime  *config.Runtime
	Logger   *slog.Logger
	// Stdout receives console reports; Stderr progress UIs.
	Stdout, Stderr io.Writer
	// DryRun makes run() record its step (with a validated plan) instead of
	// sending: loadstar inspect.
	DryRun bool
	// ArtifactRoot is where runs put their artifact directories unless a
	// scenario names one ("artifacts" when empty).
	ArtifactRoot string
	// ConfineArtifacts places relative artifact directories a scenario
	// names under ArtifactRoot too (loadstar test: tests leave nothing
	// behind in the working directory).
	ConfineArtifacts bool
	// Execute runs one step with its outputs; the command sets it to
	// internal/outputs.Run (artifacts, progress UI, console report).
	// Extra options (observers) come from the builtins, e.g. live threshold checks.
	Execute func(ctx context.Context, cfg *config.Benchmark, opts ...runner.Option) (*results.Summary, error)
	// PlotRuns draws the charts and HTML report of the finished runs in dir
	// into dir/plots (sweep(plots = True)).
	PlotRuns func(dir string) error
	// Getenv reads environment variables for env(); nil reads the process's.
	Getenv func(name string) (string, bool)
	// PlanStep validates and describes a step without sending (inspect).
	PlanStep func(ctx context.Context, cfg *config.Benchmark) (string, error)

	mu        sync.Mutex
	steps     []PlannedStep
	failed    []results.ThresholdResult
	cleanup   []func()
	allFailed []string
	crossed   []string
}

// PlannedStep is one run() recorded in dry-run mode.
type PlannedStep struct {
	Where       string // file:line of the run() call
	Config      *config.Benchmark
	Description string
}

// EnvKey is the thread-local key of the *Env.
const EnvKey = "loadstar.builtins.env"

// envOf returns the thread's Env, or an error for threads without one.
func envOf(thread *starlark.Thread) (*Env, error) {
	if e, ok := thread.Local(EnvKey).(*Env); ok {
		return e, nil
	}
	return nil, errNoEnv
}

type envError string

func (e envError) Error() string { return string(e) }

const errNoEnv = envError("this builtin needs the loadstar engine (not available in this context)")

// artifactPath is where a directory a scenario names goes: as given,
// or under ArtifactRoot when artifacts are confined and it is relative.
func (e *Env) artifactPath(dir string) string {
	if e.ConfineArtifacts && e.ArtifactRoot != "" && dir != "" && !filepath.IsAbs(dir) {
		return filepath.Join(e.ArtifactRoot, dir)
	}
	return dir
}

// Steps returns the steps recorded in dry-run mode.
func (e *Env) Steps() []PlannedStep {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]PlannedStep(nil), e.steps...)
}

// FailedThresholds returns every threshold that failed in this script.
func (e *Env) FailedThresholds() []results.ThresholdResult {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]results.ThresholdResult(nil), e.failed...)
}

// OnClose registers cleanup (mock servers) run by Close.
func (e *Env) OnClose(f func()) {
	e.mu.Lock()
	e.cleanup = append(e.cleanup, f)
	e.mu.Unlock()
}

// Close releases what the script started (mock servers), newest first.
func (e *Env) Close() {
	e.mu.Lock()
	fs := e.cleanup
	e.cleanup = nil
	e.mu.Unlock()
	for i := len(fs) - 1; i >= 0; i-- {
		fs[i]()
	}
}

func (e *Env) record(step PlannedStep) {
	e.mu.Lock()
	e.steps = append(e.steps, step)
	e.mu.Unlock()
}

func (e *Env) noteThresholds(rs []results.ThresholdResult) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, r := range rs {
		if !r.Passed {
			e.failed = append(e.failed, r)
		}
	}
}

// noteOutcome remembers a step whose every request failed (exit code 6 at
// the end of the script).
func (e *Env) noteOutcome(sum *results.Summary) {
	ok, failed := 0.0, 0.0
	if m := sum.Metric("request_count"); m != nil {
		ok = m.Value
	}
	if m := sum.Metric("error_request_count"); m != nil {
		failed = m.Value
	}
	if ok == 0 && failed > 0 {
		e.mu.Lock()
		e.allFailed = append(e.allFailed, sum.Info.ArtifactDir)
		e.mu.Unlock()
	}
}

// forgetAllFailed drops the steps of dirs from those in which every
// request failed: a search that found its answer counts a probe that
// overloaded the server as a failed probe, not as a failed script.
func (e *Env) forgetAllFailed(dirs map[string]bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	kept := e.allFailed[:0]
	for _, d := range e.allFailed {
		if !dirs[d] {
			kept = append(kept, d)
		}
	}
	e.allFailed = kept
}

// AllFailedSteps returns the artifact directories of steps in which every
// request failed.
func (e *Env) AllFailedSteps() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.allFailed...)
}

// noteCrossed remembers a compare() limit that was crossed (exit code 12 at
// the end of the script).
func (e *Env) noteCrossed(what string) {
	e.mu.Lock()
	e.crossed = append(e.crossed, what)
	e.mu.Unlock()
}

// CrossedLimits returns the compare() limits crossed in this script.
func (e *Env) CrossedLimits() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.crossed...)
}
