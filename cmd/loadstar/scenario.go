package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/term"

	"github.com/loadstar/loadstar/builtins"
	"github.com/loadstar/loadstar/engine/config"
	"github.com/loadstar/loadstar/engine/errext"
	"github.com/loadstar/loadstar/engine/results"
	"github.com/loadstar/loadstar/engine/runner"
	"github.com/loadstar/loadstar/internal/outputs"
	"github.com/loadstar/loadstar/internal/ui"
	"github.com/loadstar/loadstar/internal/workspace"
	"github.com/loadstar/loadstar/interp"
	"github.com/loadstar/loadstar/stdlib"
)

// ScriptFlags are the flags of every command that executes a scenario.
type ScriptFlags struct {
	Vars      []string `name:"var" sep:"none" help:"Script variable key=value (repeatable; commas are part of the value); the script reads the text as vars[\"key\"], or converted with vars.get(\"key\", default)." placeholder:"KEY=VALUE"`
	Libs      []string `name:"lib" sep:"none" help:"Library root name=DIR (repeatable) for load(\"@name//file.star\"); also LOADSTAR_PATH=name=DIR:name2=DIR2. Both override the roots of the scenario's loadstar.yaml." placeholder:"NAME=DIR"`
	Plugins   []string `name:"plugins" placeholder:"DIR" help:"Plugin package folder, or a folder of packages (repeatable). Also found: the scenario's loadstar.yaml plugins, LOADSTAR_PLUGINS and ./loadstar_plugins/*/."`
	MaxSteps  uint64   `name:"max-steps" help:"Execution-step budget of the script (0 = default 100M)." default:"0"`
	MaxMemory uint64   `name:"max-script-memory" help:"Memory budget of the script's own work in MiB (0 = default 1024): beyond it the script stops with an error at its file:line (docs/reliability.md)." default:"0" placeholder:"MIB"`
	Artifacts string   `name:"artifacts" placeholder:"DIR" help:"Root directory of artifact directories when a run() names none (default ./artifacts)."`
	Overwrite bool     `name:"overwrite" help:"Replace the files of existing artifact directories; by default a run whose directory holds an earlier run writes beside it (<dir>-2, ...)."`
}

// scenario is a prepared script execution: the host and the builtins' Env.
type scenario struct {
	host *interp.Host
	env  *builtins.Env
	// out is how steps print their reports; the test command quiets them.
	out *outputs.Config
}

// newScenario builds the Starlark host and the engine hooks for the script
// file (its workspace, loadstar.yaml, is found from its directory; "" for
// none). dryRun makes run() plan instead of send (loadstar inspect).
func newScenario(app *App, g *Globals, f ScriptFlags, file string, dryRun bool) (*scenario, error) {
	vars, err := interp.ParseVars(f.Vars)
	if err != nil {
		return nil, err
	}
	libs, pluginDirs, err := scriptPaths(f, file)
	if err != nil {
		return nil, err
	}
	reg, err := PluginRegistry(app, pluginDirs)
	if err != nil {
		return nil, err
	}
	rt := &config.Runtime{
		LogFormat:   g.LogFormat,
		MaxSteps:    f.MaxSteps,
		DryRun:      dryRun,
		Interactive: isTerminal(app.Stderr),
		Overwrite:   f.Overwrite,
		Vars:        map[string]string{},
		Libs:        libs,
		PluginDirs:  pluginDirs,
	}
	for _, k := range vars.Names() {
		rt.Vars[k], _ = vars.Text(k)
	}
	_ = rt.LogLevel.UnmarshalText([]byte(g.LogLevel))
	env := &builtins.Env{
		Registry: reg, Runtime: rt, Logger: app.Logger,
		Stdout: app.Stdout, Stderr: app.Stderr, DryRun: dryRun,
		ArtifactRoot: f.Artifacts,
	}
	progress := app.Progress
	if progress == nil {
		progress = app.Stderr
	}
	out := &outputs.Config{Stdout: app.Stdout, Progress: progress, Logger: app.Logger, Version: Version}
	if app.signals != nil {
		out.OnExit = app.signals.onExit
	}
	env.Execute = func(ctx context.Context, cfg *config.Benchmark, opts ...runner.Option) (*results.Summary, error) {
		defer interp.PauseMemoryBudget(ctx)() // the engine's memory has its own limits
		return outputs.Run(ctx, reg, cfg, rt, *out, opts...)
	}
	env.PlotRuns = func(dir string) error {
		p, err := outputs.WritePlots(reg, []string{dir}, "", nil, false, Version)
		if err != nil {
			return err
		}
		fmt.Fprintf(app.Stdout, "Plots: %s (%d charts)\nReport: %s\n", p.Dir, len(p.Charts), p.Report)
		return nil
	}
	env.PlanStep = func(ctx context.Context, cfg *config.Benchmark) (string, error) {
		defer interp.PauseMemoryBudget(ctx)()
		st, err := runner.Plan(ctx, reg, cfg, rt, runner.WithLogger(app.Logger))
		if err != nil {
			return "", err
		}
		return st.Describe(), nil
	}
	predeclared, err := builtins.Predeclared(env)
	if err != nil {
		return nil, errext.WithExitCode(err, errext.PluginError)
	}
	host := interp.New(interp.Options{
		Predeclared: predeclared,
		Stdlib:      stdlib.FS,
		Libs:        libs,
		Vars:        vars,
		MaxSteps:    f.MaxSteps,
		MaxMemory:   f.MaxMemory << 20,
		AbortScript: func(err error) {
			fmt.Fprintf(app.Stderr, "loadstar: %v\n", err)
			if app.signals != nil {
				app.signals.exit(int(errext.ScriptError))
			}
		},
		Stdout:     printWriter(app),
		Logger:     app.Logger,
		Locals:     map[string]any{builtins.EnvKey: env},
		QuietPrint: dryRun,
	})
	return &scenario{host: host, env: env, out: out}, nil
}

// scriptPaths are the library roots and plugin folders of the script
// file: its workspace's (loadstar.yaml), then LOADSTAR_PATH and --lib
// (overriding a root of the same name), and --plugins (added).
func scriptPaths(f ScriptFlags, file string) (libs map[string]string, plugins []string, err error) {
	ws := &workspace.Workspace{Libs: map[string]string{}}
	if file != "" {
		if ws, err = workspace.Find(filepath.Dir(file)); err != nil {
			return nil, nil, err
		}
	}
	given, err := interp.ParseLibs(f.Libs, os.Getenv(interp.EnvPath))
	if err != nil {
		return nil, nil, err
	}
	libs = ws.Libs
	for name, dir := range given {
		libs[name] = dir
	}
	return libs, append(ws.Plugins, f.Plugins...), nil
}

// finish turns what the script left behind into the command's outcome:
// failed thresholds (exit 5), crossed compare() limits (exit 12) and steps
// where every request failed (exit 6).
// A script error wins over both.
func (s *scenario) finish(app *App, scriptErr error) error {
	s.env.Close()
	if scriptErr != nil {
		return scriptErr
	}
	if failed := s.env.FailedThresholds(); len(failed) > 0 {
		var msgs []string
		for _, f := range failed {
			where := ""
			if f.Threshold.Where != "" {
				where = " (" + f.Threshold.Where + ")"
			}
			msgs = append(msgs, f.Message+where)
		}
		return errext.Errorf(errext.ThresholdsFailed, "%d threshold(s) failed:\n  %s", len(failed), strings.Join(msgs, "\n  "))
	}
	if crossed := s.env.CrossedLimits(); len(crossed) > 0 {
		return errext.Errorf(errext.ComparisonFailed, "%d compare() limit(s) crossed:\n  %s", len(crossed), strings.Join(crossed, "\n  "))
	}
	if dirs := s.env.AllFailedSteps(); len(dirs) > 0 {
		return errext.WithHint(errext.Errorf(errext.AllRequestsFailed, "every request failed in %d step(s); see the error summary in %s", len(dirs), strings.Join(dirs, ", ")),
			"check the URL, model name and API key; the artifacts hold each error")
	}
	return nil
}

// printWriter is where print() lines go: stdout, kept out of the progress
// bar's line and held while the dashboard owns the screen.
func printWriter(app *App) io.Writer {
	if t, ok := app.Progress.(*ui.Terminal); ok {
		return t.Beside(app.Stdout)
	}
	return app.Stdout
}

func isTerminal(w any) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// orInterrupted is err, or — for a command that ended without error after
// Ctrl-C (the last step was interrupted) — exit code 7: everything
// measured was written, marked incomplete.
func orInterrupted(ctx context.Context, err error) error {
	if err != nil || ctx.Err() == nil {
		return err
	}
	return errext.Errorf(errext.Interrupted, "%v; the interrupted run's artifacts were written with was_cancelled: true", context.Cause(ctx))
}
