package console

import (
	"fmt"
	"io"
	"math"
	"sort"
	"strings"

	"github.com/loadstar/loadstar/engine/results"
	"github.com/loadstar/loadstar/engine/servermetrics"
)

// ServerMetrics prints what the servers reported (plugin server_metrics):
// the headline server figures in the metrics table's columns, the single
// values (tokens, preemptions, throughput), each GPU, the client-vs-server
// reconciliation and the scrape warnings. Nothing when scraping was off.
type ServerMetrics struct{}

// Print implements Exporter.
func (ServerMetrics) Print(w io.Writer, sum *results.Summary, st Style) error {
	sm := sum.Server
	if sm == nil {
		return nil
	}
	headline := map[string]bool{}
	for _, v := range servermetrics.Views {
		headline[v.Name] = v.Headline
	}
	stats := statTable("loadstar | Server Metrics" + serverTitle(sm))
	totals := &table{title: "loadstar | Server Totals", headers: []string{"Metric", "Value", "Source"}, left: []bool{true, false, true}}
	for i := range sm.Figures {
		f := &sm.Figures[i]
		if !headline[f.Name] {
			continue
		}
		m := f.Metric()
		m.Header = f.Header
		if f.Kind == results.FigureTotal {
			totals.add(cell{text: label(m), style: ansiCyan}, cell{text: number(f.Value), style: ansiGreen}, cell{text: f.Source, style: ansiDim})
			continue
		}
		stats.add(metricRow(m)...)
	}
	if len(stats.rows) > 0 {
		_, _ = io.WriteString(w, "\n")
		stats.render(w, st.Color)
	}
	if len(totals.rows) > 0 {
		_, _ = io.WriteString(w, "\n")
		totals.render(w, st.Color)
	}
	printSlices(w, sm, headline, st)
	printGPUs(w, sm, st)
	printReconciliation(w, sm, st)
	for _, warn := range sm.Warnings {
		fmt.Fprintf(w, "%s\n", paint("WARNING "+warn, ansiYellow, st.Color))
	}
	return nil
}

// serverTitle names the servers the figures came from: " (vllm @ localhost:8000)".
func serverTitle(sm *results.ServerMetrics) string {
	servers := map[string]bool{}
	for _, f := range sm.Figures {
		if f.Server != "dcgm" {
			servers[f.Server] = true
		}
	}
	var names []string
	for s := range servers {
		names = append(names, s)
	}
	sort.Strings(names)
	var eps []string
	for _, e := range sm.Endpoints {
		if e.Kind == results.EndpointServer && e.Successful {
			eps = append(eps, servermetrics.Display(e.URL))
		}
	}
	if len(names) == 0 && len(eps) == 0 {
		return ""
	}
	return " (" + strings.Join(names, ", ") + " @ " + strings.Join(eps, ", ") + ")"
}

// gpuColumns are the GPU table's columns: AIPerf's metric names, the
// statistic shown and the header.
var gpuColumns = []struct{ metric, stat, header string }{
	{"nvidia_gpu_utilization", "avg", "Util % avg"},
	{"nvidia_power_usage", "avg", "Power W avg"},
	{"nvidia_power_usage", "max", "Power W max"},
	{"nvidia_memory_used", "max", "Mem GB max"},
	{"nvidia_sm_clock", "avg", "SM MHz avg"},
	{"nvidia_sm_clock", "min", "SM MHz min"},
	{"nvidia_temperature", "max", "Temp °C max"},
}

func printGPUs(w io.Writer, sm *results.ServerMetrics, st Style) {
	if len(sm.GPUs) == 0 {
		return
	}
	t := &table{title: "loadstar | GPU Telemetry", headers: []string{"GPU"}, left: []bool{true}}
	for _, c := range gpuColumns {
		t.headers = append(t.headers, c.header)
		t.left = append(t.left, false)
	}
	for i := range sm.GPUs {
		g := &sm.GPUs[i]
		row := []cell{{text: fmt.Sprintf("%s #%d %s", servermetrics.Display(g.Endpoint), g.Index, g.Name), style: ansiCyan}}
		for _, c := range gpuColumns {
			v := math.NaN()
			if m := g.Metric(c.metric); m != nil && !m.Counter {
				v, _ = m.Stats.Get(c.stat)
			}
			row = append(row, cell{text: number(v), style: ansiGreen})
		}
		t.add(row...)
	}
	_, _ = io.WriteString(w, "\n")
	t.render(w, st.Color)
}

func printReconciliation(w io.Writer, sm *results.ServerMetrics, st Style) {
	if len(sm.Reconciliation) == 0 {
		return
	}
	t := &table{title: "loadstar | Client vs Server", headers: []string{"Check", "Client", "Server", "Diff", "", "Note"},
		left: []bool{true, false, false, false, true, true}}
	for _, c := range sm.Reconciliation {
		diff := "N/A"
		if !math.IsNaN(c.DiffPct) {
			diff = fmt.Sprintf("%+.2f%%", c.DiffPct)
		}
		verdict := cell{text: "ok", style: ansiGreen}
		if !c.OK {
			verdict = cell{text: "FLAGGED", style: ansiBold + ansiRed}
		}
		name := c.Name
		if c.Unit != "" {
			name += " (" + c.Unit + ")"
		}
		t.add(cell{text: name, style: ansiCyan}, cell{text: number(c.Client), style: ansiGreen},
			cell{text: number(c.Server), style: ansiGreen}, cell{text: diff}, verdict, cell{text: oneLine(c.Note, 70), style: ansiDim})
	}
	_, _ = io.WriteString(w, "\n")
	t.render(w, st.Color)
	fmt.Fprintf(w, "%s\n", paint(fmt.Sprintf("Flagged beyond ±%g%%; percentiles when the client's value lies outside the server bucket holding the estimate.",
		sm.Reconciliation[0].TolerancePct), ansiDim, st.Color))
}

// printSlices prints the headline figures per time slice (with
// slice_duration): a gauge's average, a total's value, a distribution's p99.
func printSlices(w io.Writer, sm *results.ServerMetrics, headline map[string]bool, st Style) {
	var figs []*results.ServerFigure
	for i := range sm.Figures {
		f := &sm.Figures[i]
		if headline[f.Name] && len(f.Slices) > 0 && f.Server != "dcgm" {
			figs = append(figs, f)
		}
	}
	if len(figs) == 0 {
		return
	}
	t := &table{title: "loadstar | Server Metrics per Time Slice", headers: []string{"Slice (s)"}, left: []bool{true}}
	for _, f := range figs {
		h := f.Header + " (" + f.Unit + ")"
		switch f.Kind {
		case results.FigureGauge:
			h += " avg"
		case results.FigureDistribution:
			h += " p99"
		}
		t.headers = append(t.headers, h)
		t.left = append(t.left, false)
	}
	start := figs[0].Slices[0].StartNs
	for k := range figs[0].Slices {
		sl := figs[0].Slices[k]
		name := fmt.Sprintf("%.1f–%.1f", float64(sl.StartNs-start)/1e9, float64(sl.EndNs-start)/1e9)
		if !sl.Complete {
			name += " (partial)"
		}
		row := []cell{{text: name, style: ansiCyan}}
		for _, f := range figs {
			v := math.NaN()
			if k < len(f.Slices) {
				v = f.Slices[k].Value
				if f.Kind == results.FigureDistribution {
					v = f.Slices[k].P99
				}
			}
			row = append(row, cell{text: number(v), style: ansiGreen})
		}
		t.add(row...)
	}
	_, _ = io.WriteString(w, "\n")
	t.render(w, st.Color)
}
