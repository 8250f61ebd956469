package main

// RunCmd executes a scenario.
type RunCmd struct {
	File string `arg:"" help:"Scenario file (.star)." type:"existingfile"`
	ScriptFlags
}

// Run implements the command.
func (c *RunCmd) Run(g *Globals, app *App) error {
	ctx, stop := interruptible()
	defer stop()
	host, err := newHost(app, c.ScriptFlags, nil)
	if err != nil {
		return err
	}
	_, err = host.ExecFile(ctx, c.File)
	return err
}
