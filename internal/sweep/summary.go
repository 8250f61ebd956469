package sweep

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"math"
	"path/filepath"
	"strconv"

	"github.com/loadstar/loadstar/engine/results"
	"github.com/loadstar/loadstar/internal/export"
)

// Column is one headline metric of a sweep summary.
type Column struct {
	Name string // CSV column, e.g. "ttft_p99_ms"
	Tag  string // metric tag
	Stat string // avg, p50, p99, ... or "value" for single-value metrics
}

// Headline are the columns of every sweep summary row.
var Headline = []Column{
	{"request_throughput", "request_throughput", "value"},
	{"output_token_throughput", "output_token_throughput", "value"},
	{"goodput", "goodput", "value"},
	{"request_count", "request_count", "value"},
	{"error_count", "error_request_count", "value"},
	{"error_rate_pct", "request_error_rate", "value"},
	{"ttft_avg_ms", "time_to_first_token", "avg"},
	{"ttft_p50_ms", "time_to_first_token", "p50"},
	{"ttft_p99_ms", "time_to_first_token", "p99"},
	{"itl_avg_ms", "inter_token_latency", "avg"},
	{"itl_p99_ms", "inter_token_latency", "p99"},
	{"latency_avg_ms", "request_latency", "avg"},
	{"latency_p99_ms", "request_latency", "p99"},
	{"issue_delay_p99_ms", "issue_delay", "p99"},
}

// Row is one step of a sweep: its cell and the summaries of its trials.
type Row struct {
	Cell   Cell
	Trials []*results.Summary
	// Err is why the step could not run (on_failure = "continue").
	Err string
}

// MetricValue reads tag.stat from a summary; ok is false when absent.
func MetricValue(s *results.Summary, tag, stat string) (float64, bool) {
	if tag == "issue_delay" && s.Verdict.IssueDelay != nil {
		return statOf(s.Verdict.IssueDelay, stat), true
	}
	m := s.Metric(tag)
	if m == nil {
		return 0, false
	}
	if m.Stats == nil {
		return m.Value, true
	}
	return statOf(m.Stats, stat), true
}

func statOf(st *results.Stats, stat string) float64 {
	if v, ok := st.Get(stat); ok {
		return v
	}
	return st.Avg // "value" of a single-value metric
}

// Aggregates summarises each headline column over the row's trials.
func (r Row) Aggregates(confidence float64) map[string]Aggregate {
	out := map[string]Aggregate{}
	for _, c := range Headline {
		var xs []float64
		for _, t := range r.Trials {
			if v, ok := MetricValue(t, c.Tag, c.Stat); ok {
				xs = append(xs, v)
			}
		}
		if len(xs) > 0 {
			out[c.Name] = Summarize(xs, confidence)
		}
	}
	return out
}

// Valid reports whether every trial was VALID.
func (r Row) Valid() bool {
	for _, t := range r.Trials {
		if !t.Verdict.Valid {
			return false
		}
	}
	return len(r.Trials) > 0
}

// SummaryOption changes what WriteSummary writes.
type SummaryOption func(*summaryOptions)

type summaryOptions struct {
	incomplete string
	notRun     []Cell
}

// Incomplete marks a summary of a sweep that ended before its last step
// (Ctrl-C, a failing step): the JSON says "complete": false with the
// reason, and the steps in notRun get rows with no trials whose error says
// they did not finish.
//
//	sweep.WriteSummary(dir, params, rows, 0.95, sweep.Incomplete("interrupted by SIGINT (Ctrl-C)", cells[len(rows):]))
func Incomplete(reason string, notRun []Cell) SummaryOption {
	return func(o *summaryOptions) { o.incomplete, o.notRun = reason, notRun }
}

// WriteSummary writes dir/sweep_summary.csv and dir/sweep_summary.json:
// one row per step with its parameter values and headline metrics (the mean
// over trials, plus std and confidence interval columns when repeated).
// CSV numbers keep 6 significant digits (never fewer than the integer
// part); the JSON keeps every digit.
func WriteSummary(dir string, params []string, rows []Row, confidence float64, opts ...SummaryOption) (csvPath, jsonPath string, err error) {
	var o summaryOptions
	for _, opt := range opts {
		opt(&o)
	}
	if o.incomplete != "" {
		rows = append(rows[:len(rows):len(rows)], notFinished(o.incomplete, o.notRun)...)
	}
	repeated := false
	for _, r := range rows {
		if len(r.Trials) > 1 {
			repeated = true
		}
	}
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	header := append([]string{"step"}, params...)
	header = append(header, "trials", "valid")
	for _, c := range Headline {
		header = append(header, c.Name)
		if repeated {
			header = append(header, c.Name+"_std", c.Name+"_ci_low", c.Name+"_ci_high")
		}
	}
	header = append(header, "artifact_dir", "error")
	_ = w.Write(header)

	type jsonStep struct {
		Name         string               `json:"name"`
		Values       map[string]string    `json:"values"`
		Trials       int                  `json:"trials"`
		Valid        bool                 `json:"valid"`
		Metrics      map[string]Aggregate `json:"metrics"`
		ArtifactDirs []string             `json:"artifact_dirs"`
		Error        string               `json:"error,omitempty"`
	}
	doc := struct {
		Params           []string   `json:"params"`
		Confidence       float64    `json:"confidence"`
		Complete         bool       `json:"complete"`
		IncompleteReason string     `json:"incomplete_reason,omitempty"`
		Steps            []jsonStep `json:"steps"`
	}{Params: params, Confidence: confidence, Complete: o.incomplete == "", IncompleteReason: o.incomplete, Steps: []jsonStep{}}

	for _, r := range rows {
		agg := r.Aggregates(confidence)
		line := []string{r.Cell.Name}
		vals := map[string]string{}
		for _, v := range r.Cell.Values {
			line = append(line, FormatValue(v.Value))
			vals[v.Name] = FormatValue(v.Value)
		}
		line = append(line, strconv.Itoa(len(r.Trials)), strconv.FormatBool(r.Valid()))
		for _, c := range Headline {
			a, ok := agg[c.Name]
			line = append(line, num(a.Mean, ok))
			if repeated {
				line = append(line, num(a.Std, ok && a.N > 1), num(a.CILow, ok && a.N > 1), num(a.CIHigh, ok && a.N > 1))
			}
		}
		var dirs []string
		for _, t := range r.Trials {
			dirs = append(dirs, t.Info.ArtifactDir)
		}
		dir := ""
		if len(dirs) > 0 {
			dir = filepath.Dir(dirs[0])
			if len(dirs) == 1 {
				dir = dirs[0]
			}
		}
		line = append(line, dir, r.Err)
		_ = w.Write(line)
		if dirs == nil {
			dirs = []string{}
		}
		doc.Steps = append(doc.Steps, jsonStep{Name: r.Cell.Name, Values: vals, Trials: len(r.Trials), Valid: r.Valid(), Metrics: agg, ArtifactDirs: dirs, Error: r.Err})
	}
	w.Flush()
	csvPath = filepath.Join(dir, "sweep_summary.csv")
	jsonPath = filepath.Join(dir, "sweep_summary.json")
	if err := export.WriteFileAtomic(csvPath, buf.Bytes()); err != nil {
		return "", "", err
	}
	js, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return "", "", err
	}
	if err := export.WriteFileAtomic(jsonPath, append(js, '\n')); err != nil {
		return "", "", err
	}
	return csvPath, jsonPath, nil
}

// notFinished are the rows of steps a sweep did not finish.
func notFinished(reason string, cells []Cell) []Row {
	out := make([]Row, len(cells))
	for i, c := range cells {
		out[i] = Row{Cell: c, Err: "not finished: " + reason}
	}
	return out
}

func num(v float64, ok bool) string {
	if !ok || math.IsNaN(v) || math.IsInf(v, 0) {
		return ""
	}
	return results.FormatSignificant(v, 6)
}
