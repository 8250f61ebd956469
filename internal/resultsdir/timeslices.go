package resultsdir

import (
	"fmt"
	"os"
	"sort"

	"github.com/loadstar/loadstar/engine/results"
)

// Timeslices reads the run's per-time-slice results
// (profile_export_aiperf_timeslices.json); nil without the file.
func (r *Run) Timeslices() ([]results.Timeslice, error) {
	if !r.HasTimeslices() {
		return nil, nil
	}
	return ReadTimeslices(r.timeslicesPath)
}

// ReadTimeslices reads a time-slice JSON file:
// {"timeslices": [{timeslice_index, start_ns, end_ns, <tag>: {...}}]}.
func ReadTimeslices(path string) ([]results.Timeslice, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	v, err := decodeOrdered(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	list, ok := get(object(v), "timeslices").([]any)
	if !ok {
		return nil, fmt.Errorf("%s: no \"timeslices\" list", path)
	}
	out := make([]results.Timeslice, 0, len(list))
	for i, x := range list {
		o := object(x)
		ts := results.Timeslice{Index: i, Complete: true}
		for _, f := range o {
			switch f.Key {
			case "timeslice_index":
				ts.Index = int(zeroNaN(num(f.Value)))
			case "start_ns":
				ts.StartNs = int64(zeroNaN(num(f.Value)))
			case "end_ns":
				ts.EndNs = int64(zeroNaN(num(f.Value)))
			case "is_complete":
				ts.Complete, _ = f.Value.(bool)
			default:
				if mt, ok := metricFromBlock(f.Key, object(f.Value)); ok {
					ts.Metrics = append(ts.Metrics, mt)
				}
			}
		}
		sort.Slice(ts.Metrics, func(a, b int) bool { return ts.Metrics[a].Tag < ts.Metrics[b].Tag })
		out = append(out, ts)
	}
	return out, nil
}
