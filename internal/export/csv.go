package export

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"sort"

	"github.com/loadstar/loadstar/engine/results"
)

// statKeys are AIPerf's STAT_KEYS: the CSV columns of record metrics.
var statKeys = []string{"avg", "min", "max", "sum", "p1", "p5", "p10", "p25", "p50", "p75", "p90", "p95", "p99", "std"}

func statValue(st *results.Stats, key string) float64 {
	v, ok := st.Get(key)
	if !ok {
		panic("export: unknown stat " + key)
	}
	return v
}

// integerStat reports whether a stat of an integral metric prints as an
// integer (AIPerf's min, max and sum of int arrays are Python ints).
func integerStat(key string, integer bool) bool {
	return integer && (key == "min" || key == "max" || key == "sum")
}

// CSV writes profile_export_aiperf.csv (plugin csv): the record metrics
// with their statistics, a blank row, then the single-value metrics;
// rows sorted by tag, CRLF line ends as Python's csv writer.
type CSV struct{}

// Kind implements Exporter.
func (CSV) Kind() string { return KindCSV }

// Export implements Exporter.
func (CSV) Export(_ context.Context, t *Target, sum *results.Summary) (string, error) {
	data, err := summaryCSV(sum)
	if err != nil {
		return "", err
	}
	path := t.Path(KindCSV)
	return path, WriteFileAtomic(path, data)
}

// metricName is a metric's CSV label, as AIPerf's _format_metric_name: the
// header plus " (unit)" unless the unit is a count, e.g. "Request Latency
// (error-adjusted) (ms)".
func metricName(mt *results.Metric) string {
	switch mt.Unit {
	case "", "count", "requests":
		return mt.Header
	}
	if mt.Header == "" {
		return "(" + mt.Unit + ")"
	}
	return mt.Header + " (" + mt.Unit + ")"
}

// summaryCSV renders the two-section CSV of sum.
func summaryCSV(sum *results.Summary) ([]byte, error) {
	metrics := append([]results.Metric(nil), sum.Metrics...)
	sort.SliceStable(metrics, func(i, j int) bool { return metrics[i].Tag < metrics[j].Tag })
	var withStats, single []*results.Metric
	for i := range metrics {
		if metrics[i].Stats != nil {
			withStats = append(withStats, &metrics[i])
		} else {
			single = append(single, &metrics[i])
		}
	}
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.UseCRLF = true
	write := func(rec []string) {
		_ = w.Write(rec)
	}
	if len(withStats) > 0 {
		write(append([]string{"Metric"}, statKeys...))
		for _, mt := range withStats {
			row := []string{metricName(mt)}
			for _, k := range statKeys {
				row = append(row, csvNumber(statValue(mt.Stats, k), integerStat(k, mt.Integer)))
			}
			write(row)
		}
		if len(single) > 0 {
			write(nil)
		}
	}
	if len(single) > 0 {
		write([]string{"Metric", "Value"})
		for _, mt := range single {
			write([]string{metricName(mt), csvNumber(mt.Value, mt.Integer)})
		}
	}
	writeGPUSection(w, sum.Server)
	w.Flush()
	if err := w.Error(); err != nil {
		return nil, fmt.Errorf("export: profile CSV: %w", err)
	}
	return buf.Bytes(), nil
}
