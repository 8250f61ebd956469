package aiperfcli

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/alecthomas/kong"

	"github.com/loadstar/loadstar/builtins"
	"github.com/loadstar/loadstar/engine/catalog"
	"github.com/loadstar/loadstar/engine/config"
	"github.com/loadstar/loadstar/engine/plugin"
	"github.com/loadstar/loadstar/engine/results"
	"github.com/loadstar/loadstar/interp"
	"github.com/loadstar/loadstar/stdlib"
)

var (
	regOnce sync.Once
	testReg *plugin.Registry
	regErr  error
)

func registry(t testing.TB) *plugin.Registry {
	t.Helper()
	regOnce.Do(func() { testReg, regErr = catalog.New() })
	if regErr != nil {
		t.Fatalf("registry: %v", regErr)
	}
	return testReg
}

// parse reads args as the flags of `loadstar profile`.
func parse(t testing.TB, args ...string) (*Flags, error) {
	t.Helper()
	var f Flags
	p, err := kong.New(&f, kong.Name("profile"), kong.Exit(func(int) { t.Fatalf("kong exited") }))
	if err != nil {
		t.Fatalf("kong: %v", err)
	}
	if _, err := p.Parse(args); err != nil {
		return nil, err
	}
	return &f, nil
}

// build parses args and builds their plan, with no Hugging Face cache.
func build(t testing.TB, args ...string) (*Plan, error) {
	t.Helper()
	f, err := parse(t, args...)
	if err != nil {
		return nil, err
	}
	return Build(f, registry(t), WithCommandLine(append([]string{"profile"}, args...)), withGetenv(func(string) string { return "" }))
}

func mustBuild(t testing.TB, args ...string) *Plan {
	t.Helper()
	p, err := build(t, args...)
	if err != nil {
		t.Fatalf("profile %s: %v", strings.Join(args, " "), err)
	}
	return p
}

// executedSteps runs the plan with a step function that records each
// benchmark instead of sending it.
func executedSteps(t testing.TB, p *Plan) []*config.Benchmark {
	t.Helper()
	var out []*config.Benchmark
	err := p.Execute(context.Background(), func(_ context.Context, cfg *config.Benchmark) (*results.Summary, error) {
		out = append(out, cfg)
		return &results.Summary{Config: cfg, Info: results.RunInfo{ArtifactDir: cfg.Output.ArtifactDir}, Verdict: results.Verdict{Valid: true}}, nil
	}, io.Discard)
	if err != nil {
		t.Fatalf("execute: %v", err)
	}
	return out
}

// scenarioSteps runs a scenario in dry-run mode (as loadstar inspect does)
// and returns the benchmark of every run() it reaches.
func scenarioSteps(t testing.TB, text string, vars ...string) []*config.Benchmark {
	t.Helper()
	env := &builtins.Env{Registry: registry(t), Runtime: &config.Runtime{}, Logger: slog.New(slog.DiscardHandler),
		Stdout: io.Discard, Stderr: io.Discard, DryRun: true}
	defer env.Close()
	pre, err := builtins.Predeclared(env)
	if err != nil {
		t.Fatal(err)
	}
	v, err := interp.ParseVars(vars)
	if err != nil {
		t.Fatal(err)
	}
	host := interp.New(interp.Options{Predeclared: pre, Stdlib: stdlib.FS, Vars: v, Locals: map[string]any{builtins.EnvKey: env}})
	path := filepath.Join(t.TempDir(), "emitted.star")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := host.ExecFile(context.Background(), path); err != nil {
		t.Fatalf("emitted scenario failed: %v\n%s", err, text)
	}
	var out []*config.Benchmark
	for _, s := range env.Steps() {
		out = append(out, s.Config)
	}
	return out
}

// comparable strips what legitimately differs between a profile step and
// the emitted scenario's: the recorded command and the mock's address.
func comparable(c *config.Benchmark) *config.Benchmark {
	cp := *c
	cp.CLICommand = ""
	if cp.Endpoint != nil {
		args := cp.Endpoint.Args.Clone()
		args["url"] = []string{"URL"}
		cp.Endpoint = &plugin.Spec{Category: cp.Endpoint.Category, Name: cp.Endpoint.Name, Args: args}
	}
	return &cp
}

// describe renders a benchmark for failure messages.
func describe(c *config.Benchmark) string {
	r := &renderer{}
	var b strings.Builder
	for _, k := range r.runKwargs(c) {
		fmt.Fprintf(&b, "  %s = %s\n", k.Name, k.Expr)
	}
	return b.String()
}

func sameBenchmarks(t testing.TB, what string, got, want []*config.Benchmark) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d steps, want %d", what, len(got), len(want))
	}
	for i := range got {
		g, w := comparable(got[i]), comparable(want[i])
		if !reflect.DeepEqual(g, w) {
			t.Errorf("%s: step %d differs:\nscenario:\n%s\nprofile:\n%s\nscenario %#v\nprofile  %#v", what, i+1, describe(g), describe(w), *g, *w)
		}
	}
}
