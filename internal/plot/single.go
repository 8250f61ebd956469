package plot

import (
	"fmt"
	"math"
	"sort"

	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/loadstar/loadstar/internal/resultsdir"
)

// timeAxis is the x axis of the charts over time.
const timeAxis = "Time since the first request (s)"

// single returns the run of a single-run input with its records.
func single(in *Input) (*resultsdir.Run, *resultsdir.Records, error) {
	runs := in.Runs()
	if len(runs) != 1 {
		return nil, nil, fmt.Errorf("%w: %d runs", ErrNoData, len(runs))
	}
	recs, err := in.Records(runs[0])
	return runs[0], recs, err
}

// OverTime is a scatter of one metric per request against the time the
// request was sent; failed requests are marked at their time to failure.
// With Percentiles, rolling p50/p90/p99 lines are drawn over it.
type OverTime struct {
	Title, Tag, Label string
	Percentiles       bool
}

// Draw implements Chart.
func (c OverTime) Draw(in *Input) (*gplot.Plot, error) {
	_, recs, err := single(in)
	if err != nil {
		return nil, err
	}
	col := recs.Column(c.Tag)
	if col == nil {
		return nil, fmt.Errorf("%w: no %s values", ErrNoData, c.Tag)
	}
	unit := recs.Units[c.Tag]
	first := recs.FirstStartNs()
	var ok, failed plotter.XYs
	k := stride(recs.Len())
	for i := 0; i < recs.Len(); i += k {
		x := float64(recs.StartNs[i]-first) / 1e9
		switch {
		case recs.ErrorType[i] != "":
			if unit == "ms" && recs.EndNs[i] > recs.StartNs[i] {
				failed = append(failed, plotter.XY{X: x, Y: float64(recs.EndNs[i]-recs.StartNs[i]) / 1e6})
			}
		case !math.IsNaN(col[i]):
			ok = append(ok, plotter.XY{X: x, Y: col[i]})
		}
	}
	if len(ok) == 0 {
		return nil, fmt.Errorf("%w: no %s values", ErrNoData, c.Tag)
	}
	p := newPlot(c.Title, timeAxis, fmt.Sprintf("%s (%s)", c.Label, unit))
	s, err := scatter(ok, colorOf(0), draw.CircleGlyph{}, vg.Points(2))
	if err != nil {
		return nil, err
	}
	p.Add(s)
	p.Legend.Add(fmt.Sprintf("requests (%d)", len(recs.Valid(c.Tag))), s)
	if c.Percentiles {
		if err := addRollingPercentiles(p, recs, col, first); err != nil {
			return nil, err
		}
	}
	if len(failed) > 0 {
		f, err := scatter(failed, errorColor, draw.CrossGlyph{}, vg.Points(3.5))
		if err != nil {
			return nil, err
		}
		p.Add(f)
		p.Legend.Add(fmt.Sprintf("failed (%d), at time to failure", recs.Errors()), f)
	}
	p.Y.Min = 0
	return p, nil
}

// addRollingPercentiles draws p50, p90 and p99 of consecutive groups of
// requests (by send time) at each group's middle time.
func addRollingPercentiles(p *gplot.Plot, recs *resultsdir.Records, col []float64, first int64) error {
	type pt struct{ x, y float64 }
	var pts []pt
	for i, v := range col {
		if recs.ErrorType[i] == "" && !math.IsNaN(v) {
			pts = append(pts, pt{float64(recs.StartNs[i]-first) / 1e9, v})
		}
	}
	if len(pts) < 20 {
		return nil
	}
	sort.Slice(pts, func(a, b int) bool { return pts[a].x < pts[b].x })
	groups := min(50, len(pts)/10)
	size := len(pts) / groups
	lines := map[float64]plotter.XYs{}
	for g := 0; g < groups; g++ {
		part := pts[g*size : min((g+1)*size, len(pts))]
		if g == groups-1 {
			part = pts[g*size:]
		}
		ys := make([]float64, len(part))
		for i, q := range part {
			ys[i] = q.y
		}
		sort.Float64s(ys)
		x := (part[0].x + part[len(part)-1].x) / 2
		for _, q := range []float64{50, 90, 99} {
			lines[q] = append(lines[q], plotter.XY{X: x, Y: percentile(ys, q)})
		}
	}
	for i, q := range []float64{50, 90, 99} {
		l, err := line(lines[q], colorOf(i+1), vg.Points(2))
		if err != nil {
			return err
		}
		p.Add(l)
		p.Legend.Add(fmt.Sprintf("p%g (rolling, %d requests)", q, size), l)
	}
	return nil
}

// Histogram is the distribution of one metric over successful requests,
// with its p50 and p99 marked.
type Histogram struct {
	Title, Tag, Label string
}

// Draw implements Chart.
func (c Histogram) Draw(in *Input) (*gplot.Plot, error) {
	_, recs, err := single(in)
	if err != nil {
		return nil, err
	}
	vals := finite(recs.Valid(c.Tag))
	if len(vals) == 0 {
		return nil, fmt.Errorf("%w: no %s values", ErrNoData, c.Tag)
	}
	unit := recs.Units[c.Tag]
	p := newPlot(c.Title, fmt.Sprintf("%s (%s)", c.Label, unit), "Requests")
	bins := int(math.Max(10, math.Min(60, math.Sqrt(float64(len(vals))))))
	h, err := plotter.NewHist(plotter.Values(vals), bins)
	if err != nil {
		return nil, err
	}
	h.FillColor = colorOf(0)
	h.LineStyle.Color = colorOf(0)
	p.Add(h)
	p.Legend.Add(fmt.Sprintf("requests (%d)", len(vals)), h)
	sorted := sortedCopy(vals)
	_, _, _, top := h.DataRange()
	for i, q := range []float64{50, 99} {
		x := percentile(sorted, q)
		l, err := line(plotter.XYs{{X: x, Y: 0}, {X: x, Y: top}}, colorOf(i+1), vg.Points(2), vg.Points(5), vg.Points(3))
		if err != nil {
			return nil, err
		}
		p.Add(l)
		p.Legend.Add(fmt.Sprintf("p%g = %.4g %s", q, x, unit), l)
	}
	return p, nil
}

// Spread is a quantity spread over each request's active time, averaged
// per time bin: output tokens per second while a request generates
// (AIPerf's dispersed throughput: nothing during prefill, then OSL / decode
// time) or requests in flight (concurrency).
type Spread struct {
	Title, Label string
	// Tokens: output token throughput; otherwise requests in flight.
	Tokens bool
}

// spreadBins is the resolution of the charts over time.
const spreadBins = 400

// Draw implements Chart.
func (c Spread) Draw(in *Input) (*gplot.Plot, error) {
	_, recs, err := single(in)
	if err != nil {
		return nil, err
	}
	first := recs.FirstStartNs()
	var last int64
	for _, e := range recs.EndNs {
		last = max(last, e)
	}
	if recs.Len() == 0 || last <= first {
		return nil, fmt.Errorf("%w: no request times", ErrNoData)
	}
	span := float64(last - first)
	width := span / spreadBins
	bins := make([]float64, spreadBins)
	ttft, osl := recs.Column("time_to_first_token"), recs.Column("output_sequence_length")
	for i := 0; i < recs.Len(); i++ {
		a, b, rate := float64(recs.StartNs[i]-first), float64(recs.EndNs[i]-first), 1.0
		if recs.EndNs[i] <= 0 || b <= a {
			continue
		}
		if c.Tokens {
			if recs.ErrorType[i] != "" || osl == nil || math.IsNaN(osl[i]) {
				continue
			}
			if ttft != nil && !math.IsNaN(ttft[i]) {
				a += ttft[i] * 1e6
			}
			if b <= a {
				continue
			}
			rate = osl[i] / ((b - a) / 1e9)
		}
		addInterval(bins, width, a, b, rate)
	}
	xys := make(plotter.XYs, 0, 2*spreadBins)
	for i, v := range bins {
		x0, x1 := float64(i)*width/1e9, float64(i+1)*width/1e9
		xys = append(xys, plotter.XY{X: x0, Y: v}, plotter.XY{X: x1, Y: v})
	}
	p := newPlot(c.Title, timeAxis, c.Label)
	l, err := line(xys, colorOf(0), vg.Points(1.5))
	if err != nil {
		return nil, err
	}
	l.FillColor = withAlpha(colorOf(0), 0x50)
	p.Add(l)
	p.Legend.Add(fmt.Sprintf("average per %.3g s", width/1e9), l)
	p.Y.Min = 0
	return p, nil
}

// addInterval adds rate over [a, b) (ns since start) to bins of width ns,
// each bin receiving rate × the fraction of it covered.
func addInterval(bins []float64, width, a, b, rate float64) {
	i0, i1 := int(a/width), int(b/width)
	for i := max(i0, 0); i <= min(i1, len(bins)-1); i++ {
		lo, hi := math.Max(a, float64(i)*width), math.Min(b, float64(i+1)*width)
		if hi > lo {
			bins[i] += rate * (hi - lo) / width
		}
	}
}

// Timeslices draws one bar per time slice: the metric's average in it.
type Timeslices struct {
	Title, Tag, Label string
}

// Draw implements Chart.
func (c Timeslices) Draw(in *Input) (*gplot.Plot, error) {
	runs := in.Runs()
	if len(runs) != 1 {
		return nil, fmt.Errorf("%w: %d runs", ErrNoData, len(runs))
	}
	slices, err := runs[0].Timeslices()
	if err != nil {
		return nil, err
	}
	var vals plotter.Values
	unit := ""
	for _, ts := range slices {
		v := math.NaN()
		for _, m := range ts.Metrics {
			if m.Tag == c.Tag {
				unit, v = m.Unit, m.Value
				if m.Stats != nil {
					v = m.Stats.Avg
				}
			}
		}
		vals = append(vals, zeroIfNaN(v))
	}
	if len(slices) == 0 || unit == "" {
		return nil, fmt.Errorf("%w: no time slices with %s", ErrNoData, c.Tag)
	}
	dur := float64(slices[0].EndNs-slices[0].StartNs) / 1e9
	p := newPlot(c.Title, fmt.Sprintf("Time slice (%.3g s each)", dur), fmt.Sprintf("%s (%s)", c.Label, unit))
	bars, err := plotter.NewBarChart(vals, vg.Points(math.Max(2, 400/float64(len(vals)))))
	if err != nil {
		return nil, err
	}
	bars.Color = colorOf(0)
	bars.LineStyle.Width = 0
	p.Add(bars)
	p.Legend.Add("average in the slice", bars)
	p.X.Tick.Marker = gplot.TickerFunc(func(min, max float64) []gplot.Tick {
		return intTicks(min, max, len(vals))
	})
	return p, nil
}

func intTicks(lo, hi float64, n int) []gplot.Tick {
	step := max(1, n/10)
	var out []gplot.Tick
	for i := 0; i < n; i += step {
		if float64(i) >= lo && float64(i) <= hi {
			out = append(out, gplot.Tick{Value: float64(i), Label: fmt.Sprint(i)})
		}
	}
	return out
}

func zeroIfNaN(v float64) float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0
	}
	return v
}
