package main

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/alecthomas/kong"

	"github.com/loadstar/loadstar/builtins"
	"github.com/loadstar/loadstar/engine/config"
	"github.com/loadstar/loadstar/engine/errext"
	"github.com/loadstar/loadstar/engine/mock"
	"github.com/loadstar/loadstar/engine/results"
	"github.com/loadstar/loadstar/internal/aiperfcli"
	"github.com/loadstar/loadstar/internal/logging"
)

// ProfileCmd is AIPerf's `aiperf profile` command line. The flags become the
// plan a scenario would build (package internal/aiperfcli), executed step by
// step through builtins.RunStep exactly as a scenario's run() or sweep().
// docs/profile.md lists every flag and its AIPerf equivalent.
type ProfileCmd struct {
	aiperfcli.Flags
}

// Run implements the command.
func (c *ProfileCmd) Run(g *Globals, app *App, kctx *kong.Context) error {
	ctx, stop := app.interruptible()
	defer stop()
	if c.Verbose > 0 || c.ExtraVerbose {
		level := slog.LevelDebug
		if c.Verbose > 1 || c.ExtraVerbose {
			level = slog.LevelDebug - 4 // AIPerf's TRACE
		}
		w := app.Progress
		if w == nil {
			w = app.Stderr
		}
		app.Logger = logging.New(w, g.LogFormat, level)
	}
	sc, err := newScenario(app, g, ScriptFlags{}, "", false)
	if err != nil {
		return err
	}
	defer sc.env.Close()
	plan, err := aiperfcli.Build(&c.Flags, sc.env.Registry, aiperfcli.WithCommandLine(kctx.Args))
	if err != nil {
		return err
	}
	for _, n := range plan.Notes {
		fmt.Fprintf(app.Stderr, "loadstar: note: %s\n", n)
	}
	if plan.EmitScenario {
		text, err := plan.Scenario()
		if err != nil {
			return err
		}
		_, err = fmt.Fprint(app.Stdout, text)
		return err
	}
	if plan.Mock != nil {
		cfg := *plan.Mock
		cfg.Logger = app.Logger
		srv, err := mock.Start(context.WithoutCancel(ctx), cfg) // until the command ends, not until Ctrl-C
		if err != nil {
			return errext.Errorf(errext.Generic, "starting the embedded mock server: %v", err)
		}
		sc.env.OnClose(func() { srv.Close() })
		plan.UseURL(srv.URL())
		speed := fmt.Sprintf("TTFT %s, ITL %s", cfg.TTFT, cfg.ITL)
		if cfg.Fast {
			speed = "no latency"
		}
		fmt.Fprintf(app.Stderr, "loadstar: no --url given: benchmarking the embedded mock server at %s (%s); pass --url to benchmark a real server\n", srv.URL(), speed)
	}
	thread, done := sc.host.NewThread(ctx, "profile")
	defer done()
	step := func(_ context.Context, cfg *config.Benchmark) (*results.Summary, error) {
		res, err := builtins.RunStep(thread, cfg)
		if err != nil {
			return nil, err
		}
		return res.Summary(), nil
	}
	return sc.finish(app, orInterrupted(ctx, plan.Execute(ctx, step, app.Stdout)))
}
