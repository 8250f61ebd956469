package main

import (
	"fmt"
	"path/filepath"

	"github.com/loadstar/loadstar/engine/errext"
	"github.com/loadstar/loadstar/engine/plugin"
	"github.com/loadstar/loadstar/internal/plot"
	htmlreport "github.com/loadstar/loadstar/internal/report"
)

// PlotCmd draws charts of finished runs, as `aiperf plot` does: one run
// gives its requests over time, several runs or a sweep a comparison.
type PlotCmd struct {
	Paths   []string `arg:"" help:"Artifact directories: a run, a sweep, or a directory holding runs (several compare them)." type:"existingdir"`
	Output  string   `short:"o" name:"output" placeholder:"DIR" help:"Directory of the charts (default <first path>/plots)."`
	Format  string   `default:"png,svg" help:"Image formats: png, svg or png,svg."`
	Charts  []string `name:"chart" placeholder:"NAME" help:"Draw only this chart (a plot plugin name; repeatable). loadstar plugins plot lists them."`
	Plugins []string `name:"plugins" placeholder:"DIR" help:"Plugin package folder (repeatable), for charts of plugin packages."`
	Report  bool     `default:"true" negatable:"" help:"Also write report.html (the HTML report) beside the charts."`
}

// Run implements the command.
func (c *PlotCmd) Run(app *App) error {
	formats, err := plot.ParseFormats(c.Format)
	if err != nil {
		return errext.WithExitCode(fmt.Errorf("--format: %w", err), errext.Usage)
	}
	charts, err := chartsOf(app, c.Plugins, c.Charts)
	if err != nil {
		return err
	}
	in, err := plot.Load(c.Paths...)
	if err != nil {
		return resultsError(err)
	}
	out := c.Output
	if out == "" {
		out = filepath.Join(c.Paths[0], "plots")
	}
	drawn, err := plot.Write(in, charts, out, formats...)
	if err != nil {
		return err
	}
	mode := "single run"
	if in.Mode() == plot.MultiRun {
		mode = fmt.Sprintf("%d runs compared", len(in.Runs()))
	}
	fmt.Fprintf(app.Stdout, "%d charts (%s) in %s\n", len(drawn), mode, out)
	for _, r := range drawn {
		fmt.Fprintf(app.Stdout, "  %-45s %s\n", r.Name, r.Title)
	}
	if c.Report {
		path := filepath.Join(out, "report.html")
		if err := htmlreport.WriteFile(path, in, htmlreport.Options{Charts: charts, Version: Version}); err != nil {
			return err
		}
		fmt.Fprintf(app.Stdout, "Report: %s\n", path)
	}
	return nil
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
	return errext.WithHint(errext.WithExitCode(err, errext.InvalidConfig),
		"give the artifact directory of a run (it holds profile_export_aiperf.json) or of a sweep (sweep_summary.json)")
}
