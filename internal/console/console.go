// Package console prints the end-of-run report: the metrics table in
// AIPerf's layout, the error summary, loadstar's schedule-validity block,
// the thresholds with ✓/✗, the server's figures and a footer with the
// artifact paths. Colour is used only when the output is a terminal (and
// NO_COLOR is unset).
//
// Each part is a plugin of category console_exporter; Print runs them:
//
//	console.Print(os.Stdout, sum, nil, console.Detect(os.Stdout, false))
package console

import (
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/term"

	"github.com/loadstar/loadstar/engine/plugin"
	"github.com/loadstar/loadstar/engine/results"
)

// Exporter prints one part of the report.
type Exporter interface {
	Print(w io.Writer, sum *results.Summary, st Style) error
}

// Style is how the report is printed.
type Style struct {
	// Color enables ANSI colours and emphasis.
	Color bool
}

// Detect returns the style for f: colour when f is a terminal, NO_COLOR
// is unset and noColor is false.
func Detect(f *os.File, noColor bool) Style {
	if noColor || os.Getenv("NO_COLOR") != "" || f == nil {
		return Style{}
	}
	return Style{Color: term.IsTerminal(int(f.Fd()))}
}

// defaultExporters are the console exporters run when a plan names none, in order.
var defaultExporters = []string{"metrics", "phases", "errors", "validity", "thresholds", "server_metrics", "footer"}

// Classes returns the console_exporter plugins of this package, keyed by
// the Go name of their manifest class path (go:internal/console.<Key>).
func Classes() map[string]*plugin.Class {
	mk := func(e Exporter) *plugin.Class {
		return &plugin.Class{New: func(plugin.Args) (any, error) { return e, nil }}
	}
	return map[string]*plugin.Class{
		"Metrics":       mk(Metrics{}),
		"Errors":        mk(Errors{}),
		"Validity":      mk(Validity{}),
		"Phases":        mk(Phases{}),
		"Thresholds":    mk(Thresholds{}),
		"ServerMetrics": mk(ServerMetrics{}),
		"Footer":        mk(Footer{}),
	}
}

// newBuiltin returns a built-in console exporter by plugin name.
func newBuiltin(name string) (Exporter, error) {
	switch name {
	case "metrics":
		return Metrics{}, nil
	case "errors":
		return Errors{}, nil
	case "validity":
		return Validity{}, nil
	case "phases":
		return Phases{}, nil
	case "thresholds":
		return Thresholds{}, nil
	case "server_metrics":
		return ServerMetrics{}, nil
	case "footer":
		return Footer{}, nil
	}
	return nil, fmt.Errorf("console exporter %q: not a built-in (built-ins: %s)", name, strings.Join(defaultExporters, ", "))
}

// Print runs the console exporters called names (nil = defaultExporters).
func Print(w io.Writer, sum *results.Summary, names []string, st Style) error {
	if names == nil {
		names = defaultExporters
	}
	for _, n := range names {
		e, err := newBuiltin(n)
		if err != nil {
			return err
		}
		if err := e.Print(w, sum, st); err != nil {
			return err
		}
	}
	return nil
}

// statColumns are AIPerf's console columns.
var statColumns = []string{"avg", "min", "max", "p99", "p90", "p50", "std"}

func statOf(st *results.Stats, k string) float64 {
	switch k {
	case "avg":
		return st.Avg
	case "min":
		return st.Min
	case "max":
		return st.Max
	case "p99":
		return st.P99
	case "p90":
		return st.P90
	case "p50":
		return st.P50
	}
	return st.Std
}

// number formats a measured value (results.Num: two decimals, thousands
// separators, N/A when absent).
func number(v float64) string { return results.Num(v) }

// label is AIPerf's row label: header, then the unit in parentheses on the
// same line, or on the next when the header is longer than 30 characters.
func label(m *results.Metric) string {
	sep := " "
	if len(m.Header) > 30 {
		sep = "\n"
	}
	return m.Header + sep + "(" + m.Unit + ")"
}

func metricRow(m *results.Metric) []cell {
	row := []cell{{text: label(m), style: ansiCyan}}
	for _, k := range statColumns {
		switch {
		case m.Stats != nil:
			row = append(row, cell{text: number(statOf(m.Stats, k)), style: ansiGreen})
		case k == "avg":
			row = append(row, cell{text: number(m.Value), style: ansiGreen})
		default:
			row = append(row, cell{text: "N/A", style: ansiDim})
		}
	}
	return row
}

func statTable(title string) *table {
	t := &table{title: title, headers: append([]string{"Metric"}, statColumns...)}
	t.left = make([]bool, len(t.headers))
	return t
}

// Metrics prints the metrics table (plugin metrics): AIPerf's default rows
// in display order, N/A where a statistic does not apply.
type Metrics struct{}

// Print implements Exporter.
func (Metrics) Print(w io.Writer, sum *results.Summary, st Style) error {
	title := sum.Info.Endpoint.MetricsTitle
	if title == "" {
		title = "LLM Metrics"
	}
	reasoning := false
	if m := sum.Metric("reasoning_token_count"); m != nil && m.Stats != nil && m.Stats.Sum > 0 {
		reasoning = true
	}
	var rows []*results.Metric
	for i := range sum.Metrics {
		m := &sum.Metrics[i]
		if m.DisplayOrder <= 0 || m.Group != "" {
			continue
		}
		if m.Tag == "time_to_first_output_token" && !reasoning {
			continue // TTFO equals TTFT without reasoning
		}
		rows = append(rows, m)
	}
	if len(rows) == 0 {
		return nil
	}
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].DisplayOrder < rows[j].DisplayOrder })
	t := statTable("loadstar | " + title)
	for _, m := range rows {
		t.add(metricRow(m)...)
	}
	_, _ = io.WriteString(w, "\n")
	t.render(w, st.Color)
	return nil
}

// Errors prints the error summary (plugin errors), grouped by code, type
// and message.
type Errors struct{}

// Print implements Exporter.
func (Errors) Print(w io.Writer, sum *results.Summary, st Style) error {
	if len(sum.Errors) == 0 {
		return nil
	}
	t := &table{title: "loadstar | Error Summary", titleStyle: ansiRed,
		headers: []string{"Code", "Type", "Message", "Count"}, left: []bool{false, false, true, false}}
	for _, g := range sum.Errors {
		code := cell{text: "N/A", style: ansiDim}
		if g.Details.Code != 0 {
			code = cell{text: strconv.Itoa(g.Details.Code), style: ansiYellow}
		}
		typ := cell{text: "N/A", style: ansiDim}
		if g.Details.Type != "" {
			typ = cell{text: oneLine(g.Details.Type, 40), style: ansiYellow}
		}
		t.add(code, typ, cell{text: oneLine(g.Details.Message, 80), style: ansiYellow},
			cell{text: thousands(int64(g.Count)), style: ansiYellow})
	}
	_, _ = io.WriteString(w, "\n")
	t.render(w, st.Color)
	return nil
}

// oneLine flattens whitespace and cuts s to n characters so one server
// message cannot blow up the table.
func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if width(s) > n {
		r := []rune(s)
		s = string(r[:n-1]) + "…"
	}
	return s
}

func thousands(n int64) string { return results.Count(n) }
