package export

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/loadstar/loadstar/engine/ordered"
	"github.com/loadstar/loadstar/engine/results"
)

// TimeslicesCSV writes profile_export_aiperf_timeslices.csv (plugin
// timeslice_csv) in AIPerf's long form: Timeslice, Metric, Unit, Stat, Value.
type TimeslicesCSV struct{}

// Kind implements Exporter.
func (TimeslicesCSV) Kind() string { return KindTimeslicesCSV }

// Export implements Exporter; nothing is written without time slices.
func (TimeslicesCSV) Export(_ context.Context, t *Target, sum *results.Summary) (string, error) {
	if len(sum.Timeslices) == 0 {
		return "", nil
	}
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.UseCRLF = true
	_ = w.Write([]string{"Timeslice", "Metric", "Unit", "Stat", "Value"})
	for _, ts := range sum.Timeslices {
		idx := strconv.Itoa(ts.Index)
		for i := range ts.Metrics {
			mt := &ts.Metrics[i]
			name := or(mt.Header, mt.Tag)
			if mt.Stats == nil {
				_ = w.Write([]string{idx, name, mt.Unit, "avg", csvNumber(mt.Value, mt.Integer)})
				continue
			}
			for _, k := range statKeys {
				_ = w.Write([]string{idx, name, mt.Unit, k, csvNumber(statValue(mt.Stats, k), integerStat(k, mt.Integer))})
			}
		}
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return "", fmt.Errorf("export: timeslices CSV: %w", err)
	}
	path := t.Path(KindTimeslicesCSV)
	return path, WriteFileAtomic(path, buf.Bytes())
}

// TimeslicesJSON writes profile_export_aiperf_timeslices.json (plugin
// timeslice_json): {"timeslices": [{timeslice_index, start_ns, end_ns,
// <tag>: {...}}], "input_config": {...}}.
type TimeslicesJSON struct{}

// Kind implements Exporter.
func (TimeslicesJSON) Kind() string { return KindTimeslicesJSN }

// Export implements Exporter; nothing is written without time slices.
func (TimeslicesJSON) Export(_ context.Context, t *Target, sum *results.Summary) (string, error) {
	if len(sum.Timeslices) == 0 {
		return "", nil
	}
	list := make([]any, 0, len(sum.Timeslices))
	for _, ts := range sum.Timeslices {
		s := ordered.New(len(ts.Metrics) + 4)
		s.Set("timeslice_index", ts.Index)
		s.Set("start_ns", ts.StartNs)
		s.Set("end_ns", ts.EndNs)
		if !ts.Complete {
			s.Set("is_complete", false)
		}
		for i := range ts.Metrics {
			s.Set(ts.Metrics[i].Tag, metricBlock(&ts.Metrics[i]))
		}
		list = append(list, s)
	}
	top := ordered.FromPairs("timeslices", list)
	if sum.Config != nil || sum.InputConfig != nil {
		top.Set("input_config", inputConfigOf(sum))
	}
	compact, err := top.MarshalJSON()
	if err != nil {
		return "", fmt.Errorf("export: timeslices JSON: %w", err)
	}
	var out bytes.Buffer
	if err := json.Indent(&out, compact, "", "  "); err != nil {
		return "", fmt.Errorf("export: timeslices JSON: %w", err)
	}
	path := t.Path(KindTimeslicesJSN)
	return path, WriteFileAtomic(path, out.Bytes())
}
