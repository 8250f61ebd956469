package plot

import (
	"fmt"
	"math"
	"sort"
	"strconv"

	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/loadstar/loadstar/internal/resultsdir"
)

// point is one configuration of a comparison: a sweep step (its trials
// averaged) or one run.
type point struct {
	label string
	load  float64 // NaN when unknown
	runs  []*resultsdir.Run
}

// value is the mean of tag.stat over the point's runs; NaN when absent.
func (pt point) value(tag, stat string) float64 {
	sum, n := 0.0, 0
	for _, r := range pt.runs {
		if v, ok := MetricValue(r, tag, stat); ok && !math.IsNaN(v) && !math.IsInf(v, 0) {
			sum += v
			n++
		}
	}
	if n == 0 {
		return math.NaN()
	}
	return sum / float64(n)
}

// MetricValue reads tag.stat of a run's summary ("value" or any stat of a
// single-value metric is its value).
func MetricValue(r *resultsdir.Run, tag, stat string) (float64, bool) {
	m := r.Summary.Metric(tag)
	if m == nil {
		return 0, false
	}
	if m.Stats == nil {
		return m.Value, true
	}
	return m.Stats.Get(stat)
}

// points returns a group's configurations in order, and the name of its
// load axis ("" when the load is unknown).
func (g Group) points() ([]point, string) {
	var pts []point
	byStep := map[string]int{}
	loadName := ""
	for _, r := range g.Runs {
		if r.Step != "" {
			if i, ok := byStep[r.Step]; ok {
				pts[i].runs = append(pts[i].runs, r)
				continue
			}
			byStep[r.Step] = len(pts)
		}
		load, name := loadOf(r, g.Sweep)
		if name != "" && loadName == "" {
			loadName = name
		}
		label := r.Step
		if label == "" {
			label = r.Name
		}
		pts = append(pts, point{label: label, load: load, runs: []*resultsdir.Run{r}})
	}
	return pts, loadName
}

// loadOf finds the load of a run: the first swept parameter when numeric,
// else the rate or concurrency of its configuration.
func loadOf(r *resultsdir.Run, sw *resultsdir.Sweep) (float64, string) {
	if sw != nil && len(sw.Params) > 0 {
		if v, err := strconv.ParseFloat(r.Values[sw.Params[0]], 64); err == nil {
			return v, loadLabel(sw.Params[0])
		}
	}
	for _, scope := range []string{"timing", "loadgen", ""} {
		obj := r.InputConfig
		if scope != "" {
			obj, _ = fieldValue(r.InputConfig, scope).([]resultsdir.Field)
		}
		for _, key := range []string{"request_rate", "rate", "concurrency"} {
			if v, ok := fieldValue(obj, key).(float64); ok && v > 0 {
				return v, loadLabel(key)
			}
		}
	}
	return math.NaN(), ""
}

func fieldValue(obj []resultsdir.Field, key string) any {
	for _, f := range obj {
		if f.Key == key {
			return f.Value
		}
	}
	return nil
}

func loadLabel(param string) string {
	switch param {
	case "concurrency":
		return "Concurrency (requests in flight)"
	case "rate", "request_rate":
		return "Request rate (requests/sec)"
	}
	return param
}

// multi checks that the input compares several runs.
func multi(in *Input) error {
	if n := len(in.Runs()); n < 2 {
		return fmt.Errorf("%w: a comparison needs several runs, got %d", ErrNoData, n)
	}
	return nil
}

// XYChart plots one metric against another for every configuration, one
// line per group, each point labelled with its configuration. With Pareto,
// the configurations no other beats on both axes are joined by the line
// (the Pareto front) and the others drawn as points only.
type XYChart struct {
	Title          string
	XTag, XStat    string
	XLabel, YLabel string
	YTag, YStat    string
	// XBetter and YBetter: +1 when larger is better, −1 when smaller is.
	XBetter, YBetter int
	Pareto           bool
}

// Draw implements Chart.
func (c XYChart) Draw(in *Input) (*gplot.Plot, error) {
	if err := multi(in); err != nil {
		return nil, err
	}
	p := newPlot(c.Title, c.XLabel, c.YLabel)
	drawn := 0
	for gi, g := range in.Groups {
		pts, _ := g.points()
		var xys plotter.XYs
		var labels []string
		for _, pt := range pts {
			x, y := pt.value(c.XTag, c.XStat), pt.value(c.YTag, c.YStat)
			if math.IsNaN(x) || math.IsNaN(y) {
				continue
			}
			xys = append(xys, plotter.XY{X: x, Y: y})
			labels = append(labels, pt.label)
		}
		if len(xys) == 0 {
			continue
		}
		drawn++
		if err := c.addSeries(p, g.Name, gi, xys, labels); err != nil {
			return nil, err
		}
	}
	if drawn == 0 {
		return nil, fmt.Errorf("%w: no run has %s and %s", ErrNoData, c.XTag, c.YTag)
	}
	return p, nil
}

func (c XYChart) addSeries(p *gplot.Plot, name string, gi int, xys plotter.XYs, labels []string) error {
	col := colorOf(gi)
	pts, err := scatter(xys, col, draw.CircleGlyph{}, vg.Points(3.5))
	if err != nil {
		return err
	}
	p.Add(pts)
	path := append(plotter.XYs(nil), xys...)
	if c.Pareto {
		path = paretoFront(xys, c.XBetter, c.YBetter)
	}
	sort.Slice(path, func(a, b int) bool { return path[a].X < path[b].X })
	l, err := line(path, col, vg.Points(1.8))
	if err != nil {
		return err
	}
	p.Add(l)
	legend := name
	if c.Pareto {
		legend += " (Pareto front)"
	}
	p.Legend.Add(legend, l, pts)
	lab, err := plotter.NewLabels(plotter.XYLabels{XYs: xys, Labels: labels})
	if err != nil {
		return err
	}
	for i := range lab.TextStyle {
		lab.TextStyle[i].Font.Variant = "Sans"
		lab.TextStyle[i].Font.Size = vg.Points(8)
		lab.TextStyle[i].Color = col
	}
	lab.Offset = vg.Point{X: vg.Points(5), Y: vg.Points(3)}
	p.Add(lab)
	return nil
}

// paretoFront returns the points no other point beats on both axes
// (better is +1 for larger-is-better, −1 for smaller-is-better).
func paretoFront(xys plotter.XYs, xBetter, yBetter int) plotter.XYs {
	var out plotter.XYs
	for i, a := range xys {
		dominated := false
		for j, b := range xys {
			if i == j {
				continue
			}
			bx, by := float64(xBetter)*(b.X-a.X), float64(yBetter)*(b.Y-a.Y)
			if bx >= 0 && by >= 0 && (bx > 0 || by > 0) {
				dominated = true
				break
			}
		}
		if !dominated {
			out = append(out, a)
		}
	}
	return out
}

// LoadChart plots metrics against the load (the swept parameter, or each
// run's rate or concurrency): one line per metric and group.
type LoadChart struct {
	Title, YLabel string
	Series        []LoadSeries
}

// LoadSeries is one metric of a LoadChart.
type LoadSeries struct {
	Tag, Stat, Label string
	Dashed           bool
}

// Draw implements Chart.
func (c LoadChart) Draw(in *Input) (*gplot.Plot, error) {
	if err := multi(in); err != nil {
		return nil, err
	}
	xLabel := ""
	type series struct {
		name   string
		xys    plotter.XYs
		gi     int
		dashed bool
	}
	var all []series
	for gi, g := range in.Groups {
		pts, name := g.points()
		if xLabel == "" {
			xLabel = name
		}
		for si, s := range c.Series {
			var xys plotter.XYs
			for _, pt := range pts {
				if y := pt.value(s.Tag, s.Stat); !math.IsNaN(pt.load) && !math.IsNaN(y) {
					xys = append(xys, plotter.XY{X: pt.load, Y: y})
				}
			}
			if len(xys) == 0 {
				continue
			}
			sort.Slice(xys, func(a, b int) bool { return xys[a].X < xys[b].X })
			label := s.Label
			if len(in.Groups) > 1 {
				label = g.Name + " " + label
			}
			all = append(all, series{label, xys, gi*len(c.Series) + si, s.Dashed})
		}
	}
	if len(all) == 0 {
		return nil, fmt.Errorf("%w: no load or no %s", ErrNoData, c.Series[0].Tag)
	}
	p := newPlot(c.Title, xLabel, c.YLabel)
	for _, s := range all {
		var dashes []vg.Length
		if s.dashed {
			dashes = []vg.Length{vg.Points(6), vg.Points(3)}
		}
		l, pts, err := plotter.NewLinePoints(s.xys)
		if err != nil {
			return nil, err
		}
		l.Color, l.Width, l.Dashes = colorOf(s.gi), vg.Points(2), dashes
		pts.GlyphStyle.Color, pts.GlyphStyle.Shape, pts.GlyphStyle.Radius = colorOf(s.gi), draw.CircleGlyph{}, vg.Points(3)
		p.Add(l, pts)
		p.Legend.Add(s.name, l, pts)
	}
	p.Y.Min = 0
	return p, nil
}
