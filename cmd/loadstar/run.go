package main

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
	if err := c.ShardFlags.apply(sc); err != nil {
		return err
	}
	_, err = sc.host.ExecFile(ctx, c.File)
	return sc.finish(app, orInterrupted(ctx, err))
}
