package main

import "github.com/loadstar/loadstar/engine/errext"

// RunCmd executes a scenario.
type RunCmd struct {
	File string `arg:"" help:"Scenario file (.star)." type:"existingfile"`
	ScriptFlags
}

// Run implements the command.
func (c *RunCmd) Run(g *Globals, app *App) error {
	ctx, stop := interruptible()
	defer stop()
	sc, err := newScenario(app, g, c.ScriptFlags, c.File, false)
	if err != nil {
		return err
	}
	_, err = sc.host.ExecFile(ctx, c.File)
	if err == nil && ctx.Err() != nil {
		// Interrupted after the last step: everything measured was written.
		err = errext.Errorf(errext.Interrupted, "interrupted; the artifacts of the interrupted run were written with was_cancelled: true")
	}
	return sc.finish(app, err)
}
