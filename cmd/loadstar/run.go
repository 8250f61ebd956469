package main

import "github.com/loadstar/loadstar/engine/errext"

// RunCmd executes a scenario.
type RunCmd struct {
	File string   `arg:"" help:"Scenario file (.star)." type:"path"`
	Vars []string `name:"var" help:"Script variable key=value (repeatable); visible as vars in the script."`
	Libs []string `name:"lib" help:"Library root name=DIR (repeatable); load(\"@name//file.star\")."`
}

// Run implements the command.
func (c *RunCmd) Run(g *Globals, app *App) error {
	return errext.Errorf(errext.Generic, "run: the Starlark host is being built")
}

// InspectCmd prints a scenario's plan without sending.
type InspectCmd struct {
	File string   `arg:"" help:"Scenario file (.star)." type:"path"`
	Vars []string `name:"var" help:"Script variable key=value (repeatable)."`
	Libs []string `name:"lib" help:"Library root name=DIR (repeatable)."`
}

// Run implements the command.
func (c *InspectCmd) Run(g *Globals, app *App) error {
	return errext.Errorf(errext.Generic, "inspect: the Starlark host is being built")
}
