// Package plot draws charts of finished runs: AIPerf's `aiperf plot` set
// (per-request scatters over time, dispersed throughput, time-slice bars;
// across runs TTFT vs throughput and Pareto curves) plus latency histograms,
// concurrency over time, latency vs load and goodput vs rate. Every chart is a
// plugin of category plot (engine/plugin/plugins.yaml); its name is its file
// name: ttft_over_time.png and ttft_over_time.svg.
//
// Rendering is pure Go (gonum.org/v1/plot): PNG and SVG, with titles, units
// on the axes and legends.
//
//	runs, sw, _ := resultsdir.Scan("artifacts/my-run")
//	in := plot.NewInput(plot.Group{Name: "my-run", Runs: runs, Sweep: sw})
//	files, err := plot.Write(in, plot.Builtin(), "artifacts/my-run/plots", plot.PNG, plot.SVG)
package plot

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"

	"github.com/loadstar/loadstar/internal/resultsdir"
)

// Chart is the protocol of plot plugins: one chart drawn from finished runs.
type Chart interface {
	// Draw makes the chart; it returns an error wrapping ErrNoData when the
	// input lacks what the chart shows (no streaming metrics, no time
	// slices, no SLOs, a single run for a comparison chart).
	Draw(in *Input) (*gplot.Plot, error)
}

// ErrNoData says a chart does not apply to the input; it is skipped.
var ErrNoData = errors.New("no data for this chart")

// Mode says which runs a chart is for: one run's requests over time, or a
// comparison of several runs (a sweep, several directories).
type Mode string

// Chart modes (the category field of a plot plugin's metadata).
const (
	SingleRun Mode = "single_run"
	MultiRun  Mode = "multi_run"
)

// Group is the runs of one input path: a run, a sweep, a directory of runs.
// Comparison charts draw one series per group.
type Group struct {
	Name  string
	Runs  []*resultsdir.Run
	Sweep *resultsdir.Sweep
}

// Input is what charts are drawn from. Records are read once per run and
// shared by the charts.
type Input struct {
	Groups  []Group
	records map[*resultsdir.Run]*resultsdir.Records
}

// NewInput returns the input of the given groups.
func NewInput(groups ...Group) *Input {
	return &Input{Groups: groups, records: map[*resultsdir.Run]*resultsdir.Records{}}
}

// Runs returns every run of every group.
func (in *Input) Runs() []*resultsdir.Run {
	var out []*resultsdir.Run
	for _, g := range in.Groups {
		out = append(out, g.Runs...)
	}
	return out
}

// Mode is SingleRun for exactly one run, MultiRun otherwise (as aiperf plot
// decides).
func (in *Input) Mode() Mode {
	if len(in.Runs()) == 1 {
		return SingleRun
	}
	return MultiRun
}

// Records returns a run's records (read on first use).
func (in *Input) Records(r *resultsdir.Run) (*resultsdir.Records, error) {
	if recs, ok := in.records[r]; ok {
		return recs, nil
	}
	if !r.HasRecords() {
		return nil, fmt.Errorf("%s: %w: no %s", r.Dir, ErrNoData, resultsdir.RecordsFile)
	}
	recs, err := r.Records(recordTags...)
	if err != nil {
		return nil, err
	}
	in.records[r] = recs
	return recs, nil
}

// recordTags are the per-request metrics the charts use.
var recordTags = []string{"time_to_first_token", "inter_token_latency", "request_latency", "output_sequence_length"}

// Named is a chart with its plugin name (the file stem) and mode.
type Named struct {
	Name  string
	Mode  Mode
	Chart Chart
}

// Format is an output image format.
type Format string

// Formats written.
const (
	PNG Format = "png"
	SVG Format = "svg"
)

// ParseFormats reads a comma-separated list of formats ("png,svg").
func ParseFormats(s string) ([]Format, error) {
	var out []Format
	for _, f := range strings.Split(s, ",") {
		switch Format(strings.ToLower(strings.TrimSpace(f))) {
		case PNG:
			out = append(out, PNG)
		case SVG:
			out = append(out, SVG)
		case "":
		default:
			return nil, fmt.Errorf("format %q: expected png or svg", f)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no format: expected png, svg or png,svg")
	}
	return out, nil
}

// Size of every chart.
const (
	Width  = 9 * vg.Inch
	Height = 5 * vg.Inch
)

// Rendered is one chart drawn: its name, title and files.
type Rendered struct {
	Name, Title string
	// Plot is the chart, ready to encode.
	Plot *gplot.Plot
	// Files are the files written (Write only).
	Files []string
}

// Draw draws the charts of in's mode; charts without data are skipped.
func Draw(in *Input, charts []Named) ([]Rendered, error) {
	var out []Rendered
	mode := in.Mode()
	for _, c := range charts {
		if c.Mode != mode {
			continue
		}
		p, err := c.Chart.Draw(in)
		if errors.Is(err, ErrNoData) {
			continue
		}
		if err != nil {
			return out, fmt.Errorf("chart %s: %w", c.Name, err)
		}
		headroom(p)
		out = append(out, Rendered{Name: c.Name, Title: p.Title.Text, Plot: p})
	}
	return out, nil
}

// Write draws the charts of in's mode into dir as name.<format> for each
// format and returns what it drew.
func Write(in *Input, charts []Named, dir string, formats ...Format) ([]Rendered, error) {
	drawn, err := Draw(in, charts)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	for i := range drawn {
		r := &drawn[i]
		for _, f := range formats {
			data, err := Encode(r.Plot, f)
			if err != nil {
				return drawn[:i], fmt.Errorf("chart %s: %w", r.Name, err)
			}
			path := filepath.Join(dir, r.Name+"."+string(f))
			if err := os.WriteFile(path, data, 0o644); err != nil {
				return drawn[:i], err
			}
			r.Files = append(r.Files, path)
		}
	}
	return drawn, nil
}

// Encode renders p in format f. SVG text names the font with fallbacks
// (Liberation Sans, then Arial/Helvetica, then any sans-serif) so that a
// browser without Liberation fonts keeps the same look.
func Encode(p *gplot.Plot, f Format) ([]byte, error) {
	w, err := p.WriterTo(Width, Height, string(f))
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if _, err := w.WriteTo(&buf); err != nil {
		return nil, err
	}
	if f == SVG {
		return bytes.ReplaceAll(buf.Bytes(), []byte("font-family:Liberation Sans;"),
			[]byte("font-family:'Liberation Sans',Arial,Helvetica,sans-serif;")), nil
	}
	return buf.Bytes(), nil
}

// Load scans each path (a run, a sweep, a directory of runs) into one
// group, named after the path.
func Load(paths ...string) (*Input, error) {
	var groups []Group
	for _, p := range paths {
		runs, sw, err := resultsdir.Scan(p)
		if err != nil {
			return nil, err
		}
		groups = append(groups, Group{Name: groupName(p, paths), Runs: runs, Sweep: sw})
	}
	return NewInput(groups...), nil
}

// groupName is the path's last element, or the cleaned path when another
// path ends the same way.
func groupName(p string, all []string) string {
	base := filepath.Base(filepath.Clean(p))
	for _, q := range all {
		if q != p && filepath.Base(filepath.Clean(q)) == base {
			return filepath.ToSlash(filepath.Clean(p))
		}
	}
	return base
}

// headroom widens the axes a little so that the legend (top right) and the
// point labels do not cover the data at the edges.
func headroom(p *gplot.Plot) {
	if span := p.Y.Max - p.Y.Min; span > 0 {
		p.Y.Max += 0.18 * span
	}
	if span := p.X.Max - p.X.Min; span > 0 {
		p.X.Max += 0.03 * span
	}
}

// Frame is where a chart's data area lies, in fractions of the image from
// its top-left corner, and the data ranges of its axes: enough for a page
// to turn a pointer position into data values.
type Frame struct {
	Left, Top, Right, Bottom float64
	XMin, XMax, YMin, YMax   float64
}

// FrameOf returns the frame of p drawn at the standard size. Call it after
// the chart is complete (its ranges are final).
func FrameOf(p *gplot.Plot) Frame {
	c := vgsvg.New(Width, Height)
	dc := p.DataCanvas(draw.New(c))
	w, h := float64(Width), float64(Height)
	return Frame{
		Left: float64(dc.Min.X) / w, Right: float64(dc.Max.X) / w,
		Top: 1 - float64(dc.Max.Y)/h, Bottom: 1 - float64(dc.Min.Y)/h,
		XMin: p.X.Min, XMax: p.X.Max, YMin: p.Y.Min, YMax: p.Y.Max,
	}
}
