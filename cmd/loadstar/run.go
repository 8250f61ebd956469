package main

import (
	"context"
	"errors"
)

// RunCmd executes a scenario.
type RunCmd struct {
	File string `arg:"" help:"Scenario file (.star)." type:"existingfile"`
	ScriptFlags
	ShardFlags
}

// Run implements the command.
func (c *RunCmd) Run(g *Globals, app *App) error {
	ctx, stop := app.interruptible()
	defer stop()
	sc, err := newScenario(app, g, c.ScriptFlags, c.File, false)
	if err != nil {
		return err
	}
	shard, err := c.ShardFlags.apply(ctx, sc, c.Artifacts)
	if err != nil {
		return err
	}
	_, err = sc.host.ExecFile(ctx, c.File)
	err = sc.finish(app, orInterrupted(ctx, err))
	// A shard's results go to the collector even when a step failed: the
	// merge decides what they are worth.
	if uerr := shard.upload(context.WithoutCancel(ctx)); uerr != nil {
		err = errors.Join(err, uerr)
	}
	return err
}
