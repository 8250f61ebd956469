// Package report writes the HTML report of finished runs: one
// self-contained file that opens offline in any browser — the runs'
// configuration, verdict, headline numbers, the charts as inline SVG, the
// metric tables and error summary, and for several runs a comparison table.
// It loads nothing: no external script, stylesheet or font; a few lines of
// JavaScript show the data values under the pointer on the charts.
//
//	in, _ := plot.Load("artifacts/sweep-conc")
//	charts, _ := plot.Charts(reg)
//	err := report.Write(f, in, report.Options{Charts: charts})
package report

import (
	"bytes"
	"fmt"
	"html/template"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	_ "embed"

	"github.com/loadstar/loadstar/engine/results"
	"github.com/loadstar/loadstar/internal/plot"
	"github.com/loadstar/loadstar/internal/resultsdir"
)

//go:embed report.html.tmpl
var pageTemplate string

var tmpl = template.Must(template.New("report").Funcs(template.FuncMap{
	"num": formatNumber,
}).Parse(pageTemplate))

// Options tune a report.
type Options struct {
	// Title heads the page (default: the runs' names).
	Title string
	// Charts are drawn for the input's mode (plot.Charts(reg)).
	Charts []plot.Named
	// Generated is the time printed in the footer (default now).
	Generated time.Time
	// Version is loadstar's version, printed in the footer.
	Version string
}

// Write renders the report of in to w.
func Write(w io.Writer, in *plot.Input, opt Options) error {
	pg, err := build(in, opt)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := tmpl.Execute(&buf, pg); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	_, err = w.Write(buf.Bytes())
	return err
}

// WriteFile renders the report of in to path (atomically: a partial file
// never replaces a good one).
func WriteFile(path string, in *plot.Input, opt Options) error {
	var buf bytes.Buffer
	if err := Write(&buf, in, opt); err != nil {
		return err
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, buf.Bytes(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

type page struct {
	Title, Generated, Version string
	Multi                     bool
	Runs                      []runView
	Compare                   *comparison
	Charts                    []chartView
}

type chartView struct {
	Name, Title string
	SVG         template.HTML
	Frame       plot.Frame
}

func build(in *plot.Input, opt Options) (*page, error) {
	runs := in.Runs()
	if len(runs) == 0 {
		return nil, fmt.Errorf("report: no run")
	}
	pg := &page{Title: opt.Title, Version: opt.Version, Multi: in.Mode() == plot.MultiRun}
	if pg.Title == "" {
		var names []string
		for _, g := range in.Groups {
			names = append(names, g.Name)
		}
		pg.Title = "loadstar report: " + strings.Join(names, ", ")
	}
	gen := opt.Generated
	if gen.IsZero() {
		gen = time.Now()
	}
	pg.Generated = gen.Format("2006-01-02 15:04:05 MST")
	drawn, err := plot.Draw(in, opt.Charts)
	if err != nil {
		return nil, err
	}
	for _, d := range drawn {
		svg, err := plot.Encode(d.Plot, plot.SVG)
		if err != nil {
			return nil, err
		}
		pg.Charts = append(pg.Charts, chartView{Name: d.Name, Title: d.Title, SVG: template.HTML(inlineSVG(svg)), Frame: plot.FrameOf(d.Plot)})
	}
	for _, r := range runs {
		pg.Runs = append(pg.Runs, viewOf(r))
	}
	if pg.Multi {
		pg.Compare = compareRuns(in)
	}
	return pg, nil
}

// inlineSVG drops the XML prolog and comment so the SVG can sit in HTML,
// and lets it scale with the page.
func inlineSVG(svg []byte) string {
	s := string(svg)
	if i := strings.Index(s, "<svg"); i >= 0 {
		s = s[i:]
	}
	return strings.Replace(s, "<svg ", `<svg class="chart-svg" preserveAspectRatio="xMidYMid meet" `, 1)
}

// runView is one run's section.
type runView struct {
	Name, Dir, Producer    string
	Verdict                string // VALID, INVALID, or "" when the file has none
	Reasons, Warnings      []string
	Cancelled              bool
	Start, Duration        string
	Headline               []headline
	Config                 []configRow
	Metrics                []metricRow
	Values                 []valueRow
	Errors                 []errorRow
	Thresholds             []thresholdRow
	TotalErrors, TotalReqs int
}

type headline struct{ Label, Value, Unit string }

type configRow struct{ Key, Value string }

type metricRow struct {
	Name, Unit                             string
	Avg, Min, Max, P99, P90, P50, Std, Cnt float64
}

type valueRow struct {
	Name, Unit string
	Value      float64
}

type errorRow struct {
	Code, Type, Message string
	Count               int
}

type thresholdRow struct {
	Metric, Expr, Message string
	Passed                bool
}

func viewOf(r *resultsdir.Run) runView {
	s := r.Summary
	v := runView{Name: r.Name, Dir: r.Dir, Producer: r.Producer, Cancelled: s.Info.WasCancelled,
		Reasons: s.Verdict.Reasons, Warnings: s.Info.Warnings}
	v.Verdict = verdictOf(r)
	if !s.Info.Start.IsZero() {
		v.Start = s.Info.Start.Format("2006-01-02 15:04:05")
	}
	if d := s.Metric("benchmark_duration"); d != nil {
		v.Duration = fmt.Sprintf("%.2f s", d.Value)
	}
	v.Headline = headlines(s)
	v.Config = flatten("", r.InputConfig)
	for _, m := range orderedMetrics(s) {
		if m.Stats != nil {
			st := m.Stats
			v.Metrics = append(v.Metrics, metricRow{Name: m.Header, Unit: m.Unit, Avg: st.Avg, Min: st.Min, Max: st.Max,
				P99: st.P99, P90: st.P90, P50: st.P50, Std: st.Std, Cnt: float64(st.Count)})
		} else {
			v.Values = append(v.Values, valueRow{Name: m.Header, Unit: m.Unit, Value: m.Value})
		}
	}
	for _, e := range s.Errors {
		code := ""
		if e.Details.Code != 0 {
			code = fmt.Sprint(e.Details.Code)
		}
		v.Errors = append(v.Errors, errorRow{Code: code, Type: e.Details.Type, Message: e.Details.Message, Count: e.Count})
		v.TotalErrors += e.Count
	}
	for _, t := range s.Thresholds {
		v.Thresholds = append(v.Thresholds, thresholdRow{Metric: t.Threshold.Metric, Expr: t.Threshold.Expr, Message: t.Message, Passed: t.Passed})
	}
	return v
}

// headlines are the numbers at the top of a run's section.
func headlines(s *results.Summary) []headline {
	var out []headline
	add := func(label, tag, stat string) {
		m := s.Metric(tag)
		if m == nil {
			return
		}
		v := m.Value
		if m.Stats != nil {
			v, _ = m.Stats.Get(stat)
		}
		out = append(out, headline{Label: label, Value: formatNumber(v), Unit: m.Unit})
	}
	add("Request throughput", "request_throughput", "")
	add("Output token throughput", "output_token_throughput", "")
	add("Goodput", "goodput", "")
	add("TTFT p50", "time_to_first_token", "p50")
	add("TTFT p99", "time_to_first_token", "p99")
	add("ITL p50", "inter_token_latency", "p50")
	add("Request latency p50", "request_latency", "p50")
	add("Request latency p99", "request_latency", "p99")
	add("Requests", "request_count", "")
	add("Error rate", "request_error_rate", "")
	return out
}

// orderedMetrics are the console's rows first (display order), then the
// rest by tag.
func orderedMetrics(s *results.Summary) []results.Metric {
	ms := append([]results.Metric(nil), s.Metrics...)
	sort.SliceStable(ms, func(i, j int) bool {
		a, b := ms[i].DisplayOrder, ms[j].DisplayOrder
		if (a > 0) != (b > 0) {
			return a > 0
		}
		if a != b {
			return a < b
		}
		return ms[i].Tag < ms[j].Tag
	})
	return ms
}

// flatten turns the configuration into key paths: endpoint.model = [...].
func flatten(prefix string, obj []resultsdir.Field) []configRow {
	var out []configRow
	for _, f := range obj {
		key := f.Key
		if prefix != "" {
			key = prefix + "." + f.Key
		}
		if sub, ok := f.Value.([]resultsdir.Field); ok && len(sub) > 0 {
			out = append(out, flatten(key, sub)...)
			continue
		}
		out = append(out, configRow{Key: key, Value: resultsdir.FormatValue(f.Value)})
	}
	return out
}

func formatNumber(v float64) string {
	switch {
	case math.IsNaN(v):
		return "N/A"
	case math.IsInf(v, 1):
		return "inf"
	case math.IsInf(v, -1):
		return "-inf"
	case v == math.Trunc(v) && math.Abs(v) < 1e15:
		return fmt.Sprintf("%.0f", v)
	case math.Abs(v) >= 100:
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.3g", v)
}
