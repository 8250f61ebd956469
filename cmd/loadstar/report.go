package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/loadstar/loadstar/internal/plot"
	htmlreport "github.com/loadstar/loadstar/internal/report"
)

// ReportCmd writes the HTML report of finished runs: one self-contained
// file (configuration, verdict, headline numbers, charts as inline SVG,
// metric tables, errors; a comparison table for several runs).
type ReportCmd struct {
	Paths   []string `arg:"" help:"Artifact directories: a run, a sweep, or a directory holding runs (several are compared)." type:"existingdir"`
	Output  string   `short:"o" name:"output" placeholder:"FILE" help:"The HTML file to write (default <first path>/report.html)."`
	Title   string   `help:"Title of the page (default: the directories' names)."`
	Plugins []string `name:"plugins" placeholder:"DIR" help:"Plugin package folder (repeatable), for charts of plugin packages."`
}

// Run implements the command.
func (c *ReportCmd) Run(app *App) error {
	charts, err := chartsOf(app, c.Plugins, nil)
	if err != nil {
		return err
	}
	in, err := plot.Load(c.Paths...)
	if err != nil {
		return resultsError(err)
	}
	out := c.Output
	if out == "" {
		out = filepath.Join(c.Paths[0], "report.html")
	}
	if err := htmlreport.WriteFile(out, in, htmlreport.Options{Title: c.Title, Charts: charts, Version: Version}); err != nil {
		return err
	}
	st, err := os.Stat(out)
	if err != nil {
		return err
	}
	runs := fmt.Sprintf("%d runs", len(in.Runs()))
	if len(in.Runs()) == 1 {
		runs = "1 run"
	}
	fmt.Fprintf(app.Stdout, "Report: %s (%s, %d KB)\n", out, runs, (st.Size()+1023)/1024)
	return nil
}
