package outputs

import (
	"path/filepath"

	"github.com/loadstar/loadstar/engine/plugin"
	"github.com/loadstar/loadstar/internal/plot"
	"github.com/loadstar/loadstar/internal/report"
)

// Plots are the charts and the report drawn by WritePlots.
type Plots struct {
	Dir    string
	Charts []plot.Rendered
	Report string // report.html, "" when not written
	Mode   plot.Mode
	Runs   int
}

// WritePlots draws the charts of reg (category plot) for the finished runs
// in paths — one run over time, several compared — into out (default
// <first path>/plots) in the given formats (default PNG and SVG), and the
// HTML report beside them unless noReport. version goes in the report's
// footer.
func WritePlots(reg *plugin.Registry, paths []string, out string, formats []plot.Format, noReport bool, version string) (*Plots, error) {
	charts, err := plot.Charts(reg)
	if err != nil {
		return nil, err
	}
	in, err := plot.Load(paths...)
	if err != nil {
		return nil, err
	}
	if out == "" {
		out = filepath.Join(paths[0], "plots")
	}
	if len(formats) == 0 {
		formats = []plot.Format{plot.PNG, plot.SVG}
	}
	drawn, err := plot.Write(in, charts, out, formats...)
	if err != nil {
		return nil, err
	}
	res := &Plots{Dir: out, Charts: drawn, Mode: in.Mode(), Runs: len(in.Runs())}
	if !noReport {
		res.Report = filepath.Join(out, "report.html")
		if err := report.WriteFile(res.Report, in, report.Options{Charts: charts, Version: version}); err != nil {
			return res, err
		}
	}
	return res, nil
}
