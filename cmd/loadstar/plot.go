package main

import (
	"fmt"
	"path/filepath"

	"github.com/loadstar/loadstar/engine/errext"
	"github.com/loadstar/loadstar/engine/plugin"
	"github.com/loadstar/loadstar/internal/outputs"
	"github.com/loadstar/loadstar/internal/plot"
)

// PlotCmd draws charts of finished runs, as `aiperf plot` does: one run
// gives its requests over time, several runs or a sweep a comparison.
type PlotCmd struct {
	Paths   []string `arg:"" help:"Artifact directories: a run, a sweep, or a directory holding runs (several compare them)." type:"existingdir"`
	Output  string   `short:"o" name:"output" placeholder:"DIR" help:"Directory of the charts (default <first path>/plots)."`
	Format  string   `default:"png,svg" help:"Image formats: png, svg or png,svg."`
	Charts  []string `name:"chart" placeholder:"NAME" help:"Draw only this chart (a plot plugin name; repeatable). loadstar plugins plot lists them."`
	Plugins []string `name:"plugins" placeholder:"DIR" help:"Plugin package folder (repeatable), for charts of plugin packages."`
	Report  bool     `default:"true" negatable:"" help:"Also write report.html (the HTML report) beside the charts (not with --chart)."`
}

// Run implements the command.
func (c *PlotCmd) Run(app *App) error {
	formats, err := plot.ParseFormats(c.Format)
	if err != nil {
		return errext.WithExitCode(fmt.Errorf("--format: %w", err), errext.Usage)
	}
	reg, err := PluginRegistry(app, c.Plugins)
	if err != nil {
		return err
	}
	var res *outputs.Plots
	if len(c.Charts) > 0 {
		res, err = c.only(reg, formats)
	} else {
		res, err = outputs.WritePlots(reg, c.Paths, c.Output, formats, !c.Report, Version)
	}
	if err != nil {
		return resultsError(err)
	}
	mode := "single run"
	if res.Mode == plot.MultiRun {
		mode = fmt.Sprintf("%d runs compared", res.Runs)
	}
	fmt.Fprintf(app.Stdout, "%d charts (%s) in %s\n", len(res.Charts), mode, res.Dir)
	for _, r := range res.Charts {
		fmt.Fprintf(app.Stdout, "  %-45s %s\n", r.Name, r.Title)
	}
	if res.Report != "" {
		fmt.Fprintf(app.Stdout, "Report: %s\n", res.Report)
	}
	return nil
}

// only draws the charts named by --chart (no report).
func (c *PlotCmd) only(reg *plugin.Registry, formats []plot.Format) (*outputs.Plots, error) {
	var specs []*plugin.Spec
	for _, n := range c.Charts {
		specs = append(specs, &plugin.Spec{Category: plugin.Plot, Name: n})
	}
	charts, err := plot.Charts(reg, specs...)
	if err != nil {
		return nil, errext.WithExitCode(err, errext.Usage)
	}
	in, err := plot.Load(c.Paths...)
	if err != nil {
		return nil, err
	}
	out := c.Output
	if out == "" {
		out = filepath.Join(c.Paths[0], "plots")
	}
	drawn, err := plot.Write(in, charts, out, formats...)
	return &outputs.Plots{Dir: out, Charts: drawn, Mode: in.Mode(), Runs: len(in.Runs())}, err
}

// chartsOf builds the named charts (all when names is empty) from the
// plugin registry.
func chartsOf(app *App, pluginDirs, names []string) ([]plot.Named, error) {
	reg, err := PluginRegistry(app, pluginDirs)
	if err != nil {
		return nil, err
	}
	var specs []*plugin.Spec
	for _, n := range names {
		specs = append(specs, &plugin.Spec{Category: plugin.Plot, Name: n})
	}
	charts, err := plot.Charts(reg, specs...)
	if err != nil {
		return nil, errext.WithExitCode(err, errext.Usage)
	}
	return charts, nil
}

// resultsError gives a results directory that cannot be read its exit code
// and a hint.
func resultsError(err error) error {
	if errext.ExitCodeOf(err) != errext.Generic {
		return err
	}
	return errext.WithHint(errext.WithExitCode(err, errext.InvalidConfig),
		"give the artifact directory of a run (it holds profile_export_aiperf.json) or of a sweep (sweep_summary.json)")
}
