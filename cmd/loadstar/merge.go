package main

import (
	"context"
	"fmt"

	"github.com/loadstar/loadstar/internal/outputs"
)

// MergeCmd joins the shards of a sharded benchmark.
type MergeCmd struct {
	Dirs      []string `arg:"" name:"shard-dir" help:"Each shard's artifact directory of one step, or each shard's artifact root (steps matched by their path below it)." type:"existingdir"`
	Output    string   `name:"output" short:"o" required:"" placeholder:"DIR" help:"Directory of the merged artifacts (one subdirectory per step for artifact roots)."`
	Overwrite bool     `name:"overwrite" help:"Replace the files of an existing output directory."`
	Plots     bool     `name:"plots" help:"Also draw the merged run's charts and HTML report."`
	Quiet     bool     `name:"quiet" short:"q" help:"Print no console report, only where the merged artifacts went."`
}

// Run implements the command.
func (c *MergeCmd) Run(app *App) error {
	stdout := app.Stdout
	if c.Quiet {
		stdout = nil
	}
	merged, err := outputs.MergeDirs(context.Background(), c.Dirs, c.Output, c.Overwrite, stdout, app.Stdout)
	if err != nil || !c.Plots {
		return err
	}
	reg, err := PluginRegistry(app, nil)
	if err != nil {
		return err
	}
	for _, m := range merged {
		p, err := outputs.WritePlots(reg, []string{m.Summary.Info.ArtifactDir}, "", nil, false, Version)
		if err != nil {
			return fmt.Errorf("merge: plots: %w", err)
		}
		fmt.Fprintf(app.Stdout, "Plots: %s (%d charts)\nReport: %s\n", p.Dir, len(p.Charts), p.Report)
	}
	return nil
}
