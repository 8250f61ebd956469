package main

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"

	"github.com/loadstar/loadstar/engine/errext"
	"github.com/loadstar/loadstar/internal/outputs"
	"github.com/loadstar/loadstar/internal/shardmerge"
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
	steps, err := shardmerge.Steps(c.Dirs)
	if err != nil {
		return errext.WithExitCode(err, errext.InvalidConfig)
	}
	names := make([]string, 0, len(steps))
	for rel := range steps {
		names = append(names, rel)
	}
	sort.Strings(names)
	for _, rel := range names {
		var files []*shardmerge.File
		for _, dir := range steps[rel] {
			f, err := shardmerge.Read(dir)
			if err != nil {
				return errext.WithExitCode(err, errext.InvalidConfig)
			}
			files = append(files, f)
		}
		m, err := shardmerge.Merge(context.Background(), files)
		if err != nil {
			if rel != "." {
				err = fmt.Errorf("step %s: %w", rel, err)
			}
			return errext.WithExitCode(err, errext.InvalidConfig)
		}
		out := filepath.Join(c.Output, rel)
		stdout := app.Stdout
		if c.Quiet {
			stdout = nil
		}
		if err := outputs.WriteMerged(context.Background(), m, out, c.Overwrite, stdout); err != nil {
			return err
		}
		how := "exact statistics"
		if !m.Exact {
			how = "HDR percentiles (relative error <= 0.001), exact counts and moments"
		}
		fmt.Fprintf(app.Stdout, "Merged %d shards of benchmark %s into %s: %s; start skew %s\n",
			len(files), m.Summary.Info.BenchmarkID, out, how, shardmerge.StartSkew(files))
		if c.Plots {
			reg, err := PluginRegistry(app, nil)
			if err != nil {
				return err
			}
			p, err := outputs.WritePlots(reg, []string{out}, "", nil, false, Version)
			if err != nil {
				return fmt.Errorf("merge: plots: %w", err)
			}
			fmt.Fprintf(app.Stdout, "Plots: %s (%d charts)\nReport: %s\n", p.Dir, len(p.Charts), p.Report)
		}
	}
	return nil
}
