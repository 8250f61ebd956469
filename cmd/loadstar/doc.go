package main

import (
	"strings"

	"github.com/loadstar/loadstar/builtins"
	"github.com/loadstar/loadstar/engine/errext"
	"github.com/loadstar/loadstar/stdlib"
)

// DocCmd prints the reference of the script API: builtins, plugin
// constructors (with their arguments, defaults and descriptions) and the
// standard library — from the same metadata the builtins are built from.
type DocCmd struct {
	Name     string   `arg:"" optional:"" help:"A name (run, dist.normal, endpoint.chat), a namespace (endpoint, timing) or a stdlib module (slo)."`
	Markdown bool     `help:"Print the whole reference as Markdown (docs/scenarios.md is this output)."`
	Plugins  []string `name:"plugins" placeholder:"DIR" help:"Also document the plugins of these package folders."`
}

// Run implements the command.
func (c *DocCmd) Run(app *App) error {
	reg, err := PluginRegistry(app, c.Plugins)
	if err != nil {
		return err
	}
	entries := builtins.Reference(reg, stdlib.FS)
	if c.Name == "" {
		builtins.WriteMarkdown(app.Stdout, entries, true)
		return nil
	}
	found := builtins.FindDoc(entries, c.Name)
	if len(found) == 0 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name)
		}
		return errext.WithHint(errext.Errorf(errext.Usage, "doc: nothing named %q", c.Name),
			"known names: "+strings.Join(names, ", "))
	}
	builtins.WriteMarkdown(app.Stdout, found, false)
	return nil
}
