package main

import "fmt"

// InspectCmd prints a scenario's plan without sending anything: every step
// run() would execute, validated (plugins built, dataset composed), with its
// load and how many requests or how long.
type InspectCmd struct {
	File string `arg:"" help:"Scenario file (.star)." type:"existingfile"`
	ScriptFlags
}

// Run implements the command.
func (c *InspectCmd) Run(g *Globals, app *App) error {
	ctx, stop := app.interruptible()
	defer stop()
	sc, err := newScenario(app, g, c.ScriptFlags, c.File, true)
	if err != nil {
		return err
	}
	_, err = sc.host.ExecFile(ctx, c.File)
	sc.env.Close()
	if err != nil {
		return err
	}
	steps := sc.env.Steps()
	fmt.Fprintf(app.Stdout, "%s: %d step(s); nothing was sent\n", c.File, len(steps))
	for i, st := range steps {
		name := st.Config.Name
		if name != "" {
			name = " " + name
		}
		fmt.Fprintf(app.Stdout, "\nstep %d%s (%s)\n", i+1, name, st.Where)
		fmt.Fprintln(app.Stdout, indent(st.Description))
	}
	return nil
}
