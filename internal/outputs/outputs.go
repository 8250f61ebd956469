// Package outputs assembles a benchmark step with what it produces. The
// engine (engine/runner with internal/metrics) runs a step and hands back
// records and results; this package constructs the outputs around it, in
// k6's style of outputs built by the command rather than by the engine:
//
//   - the artifact directory, named as AIPerf names it unless the plan
//     names one;
//   - inputs.json, written from the step's payloads before anything is sent;
//   - the per-record artifacts (profile_export.jsonl, raw JSONL, Parquet),
//     fed through runner.WithRecordSink while the step runs;
//   - the summary artifacts (profile_export_aiperf.json/.csv, time slices),
//     written from the results;
//   - the server's own metrics, scraped while the step runs
//     (engine/servermetrics) and joined to the results, with their files
//     (server_metrics_export.*, gpu_telemetry_export.jsonl);
//   - the progress UI (internal/ui), driven by runner.WithObserver;
//   - the console report (internal/console), printed from the results.
//
// builtins' run(), sweep() and search() reach it through the command's
// hook, and loadstar profile through them:
//
//	sum, err := outputs.Run(ctx, reg, cfg, rt, outputs.Config{Stdout: os.Stdout, Progress: os.Stderr, Logger: log})
//
// Ctrl-C (ctx cancelled) still writes every artifact of what was measured,
// with was_cancelled set.
//
// The package also binds the output plugins' Go classes (data_exporter,
// console_exporter, ui, plot): NewRegistry is engine/catalog's registry with them.
package outputs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"

	"github.com/loadstar/loadstar/engine/catalog"
	"github.com/loadstar/loadstar/engine/config"
	"github.com/loadstar/loadstar/engine/errext"
	"github.com/loadstar/loadstar/engine/plugin"
	"github.com/loadstar/loadstar/engine/results"
	"github.com/loadstar/loadstar/engine/runner"
	"github.com/loadstar/loadstar/internal/console"
	"github.com/loadstar/loadstar/internal/export"
	"github.com/loadstar/loadstar/internal/plot"
	"github.com/loadstar/loadstar/internal/ui"
)

// Config says where a step's outputs go besides its artifact directory.
type Config struct {
	// Stdout receives the console report when the step ends (nil = none).
	Stdout io.Writer
	// Progress receives the progress bar of the simple UI (nil = no UI).
	Progress io.Writer
	// Logger receives warnings and the none UI's progress lines (nil =
	// discard).
	Logger *slog.Logger
	// Version is loadstar's version, printed in reports.
	Version string
	// OnExit, when set, is handed a function that flushes the running
	// step's record streams, for a process that must exit at once (a
	// second Ctrl-C); the function it returns is called when the step's
	// files are complete, and forgets it.
	OnExit func(flush func()) (forget func())
}

// Run plans cfg with reg, opens its artifacts, runs it with the progress
// UI attached and returns its results once the summary artifacts are
// written and the console report printed. rt may be nil; opts go to the
// runner (observers, a dataset, a clock, ...). As with runner.Run, a
// Summary may come back together with an error (an artifact that could not
// be written).
func Run(ctx context.Context, reg *plugin.Registry, cfg *config.Benchmark, rt *config.Runtime, c Config, opts ...runner.Option) (*results.Summary, error) {
	log := c.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if rt == nil {
		rt = &config.Runtime{}
	}
	opts = append([]runner.Option{runner.WithLogger(log)}, opts...)
	st, err := runner.Plan(ctx, reg, cfg, rt, opts...)
	if err != nil {
		return nil, err
	}
	closeUI := func() {}
	if c.Progress != nil {
		u, err := ui.Auto(cfg.UI, rt.Interactive, c.Progress, log)
		if err != nil {
			return nil, invalid(err)
		}
		opts = append(opts, runner.WithObserver(&progress{ui: u}))
		// A full-screen UI gives the terminal back when the step ends,
		// before the console report prints.
		if cl, ok := u.(interface{ Close() }); ok {
			closeUI = sync.OnceFunc(cl.Close)
			defer closeUI()
		}
	}
	dir := artifactDir(st)
	claimed, err := export.ClaimDir(dir, cfg.Output.Overwrite || rt.Overwrite)
	if err != nil {
		return nil, invalid(fmt.Errorf("artifact directory: %w", err))
	}
	if claimed != dir {
		log.Warn("the artifact directory holds an earlier run: writing beside it (overwrite = True or --overwrite replaces it)",
			"dir", dir, "artifacts", claimed)
		cfg.Output.ArtifactDir = claimed
	}
	art, err := openArtifacts(cfg, claimed, st.RecordSchema(), log)
	if err != nil {
		return nil, invalid(err)
	}
	if err := art.writeInputs(st); err != nil {
		log.Warn("inputs.json not written", "error", err)
	}
	scrape, err := startServerScrape(ctx, st, art.target.Dir, log)
	if err != nil {
		art.abort()
		return nil, invalid(err)
	}
	if scrape != nil {
		opts = append(opts, runner.WithObserver(scrape))
	}
	for _, sink := range art.sinks() {
		opts = append(opts, runner.WithRecordSink(sink))
	}
	if c.OnExit != nil {
		// An immediate exit keeps the records written so far and gives
		// the terminal back.
		defer c.OnExit(func() { art.flushForExit(); closeUI() })()
	}
	sum, err := st.Run(ctx, opts...)
	closeUI()
	if sum == nil {
		art.abort()
		if scrape != nil {
			scrape.abort()
		}
		return nil, err
	}
	if scrape != nil {
		if xerr := scrape.finish(sum); xerr != nil {
			err = errors.Join(err, xerr)
		}
	}
	if len(sum.Thresholds) == 0 { // judged before anything is written: JSON, console
		for _, t := range cfg.Thresholds {
			sum.Thresholds = append(sum.Thresholds, results.EvaluateThreshold(sum, t))
		}
	}
	if xerr := art.finish(context.WithoutCancel(ctx), sum); xerr != nil {
		err = errors.Join(err, xerr)
	}
	if sum.Shard != nil {
		if xerr := writeShardFile(sum, claimed, c.Version); xerr != nil {
			err = errors.Join(err, xerr)
		}
	}
	var plots *Plots
	if cfg.Output.Plots {
		var perr error
		if plots, perr = WritePlots(reg, []string{claimed}, "", nil, false, c.Version); perr != nil {
			err = errors.Join(err, fmt.Errorf("plots: %w", perr))
			plots = nil
		}
	}
	if c.Stdout != nil {
		style := console.Style{}
		if f, ok := c.Stdout.(*os.File); ok {
			style = console.Detect(f, rt.NoColor)
		}
		if perr := console.Print(c.Stdout, sum, cfg.Output.Console, style); perr != nil {
			err = errors.Join(err, fmt.Errorf("console report: %w", perr))
		}
		if plots != nil {
			fmt.Fprintf(c.Stdout, "Plots: %s (%d charts)\nReport: %s\n", plots.Dir, len(plots.Charts), plots.Report)
		}
	}
	return sum, err
}

// artifactDir is where the artifacts of a planned step go: the plan's
// directory, or one named as AIPerf names it under the plan's root.
func artifactDir(st *runner.Step) string {
	return export.ArtifactDir(st.Config, st.Settings.Metadata.ServiceKind, st.Config.Endpoint.Name, "")
}

// invalid marks a configuration error (exit code 3) unless err has a code.
func invalid(err error) error {
	if errext.ExitCodeOf(err) != errext.Generic {
		return err
	}
	return errext.WithExitCode(err, errext.InvalidConfig)
}

// Classes returns the Go classes of the output plugins (data_exporter,
// console_exporter, ui, plot), keyed by their full class path
// ("go:internal/export.JSON").
func Classes() map[string]*plugin.Class {
	out := map[string]*plugin.Class{}
	for _, s := range []struct {
		path    string
		classes func() map[string]*plugin.Class
	}{
		{"internal/export", export.Classes},
		{"internal/console", console.Classes},
		{"internal/ui", ui.Classes},
		{"internal/plot", plot.Classes},
	} {
		for name, c := range s.classes() {
			out["go:"+s.path+"."+name] = c
		}
	}
	return out
}

// NewRegistry is catalog.New with the output plugins' classes bound too:
// the registry of the loadstar binary, where every class of the built-in
// manifest resolves.
func NewRegistry(opts ...plugin.Option) (*plugin.Registry, error) {
	return catalog.New(append([]plugin.Option{plugin.WithGoClasses(Classes())}, opts...)...)
}
