package resultsdir

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
)

// Sweep is a sweep's directory: sweep_summary.json and its steps' runs.
type Sweep struct {
	Dir string
	// Params are the swept parameters, in grid order.
	Params []string
	// Confidence is the level of the trial confidence intervals.
	Confidence float64
	Steps      []SweepStep
	// Runs are the steps' runs (every trial), in step order.
	Runs []*Run
}

// SweepStep is one row of the sweep summary.
type SweepStep struct {
	Name   string
	Values map[string]string
	Trials int
	Valid  bool
	// Metrics are the headline columns over trials (mean, std, ci_low, …),
	// keyed by column name (ttft_p99_ms, request_throughput, …).
	Metrics map[string]map[string]float64
	Error   string
	// Runs are the step's trial runs (fewer than Trials when a directory is
	// missing).
	Runs []*Run
}

// OpenSweep reads a sweep's directory.
func OpenSweep(dir string) (*Sweep, error) {
	path := filepath.Join(dir, SweepSummaryFile)
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	v, err := decodeOrdered(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	top := object(v)
	sw := &Sweep{Dir: dir, Params: strs(get(top, "params")), Confidence: zeroNaN(num(get(top, "confidence")))}
	steps, _ := get(top, "steps").([]any)
	for _, x := range steps {
		o := object(x)
		st := SweepStep{Name: str(get(o, "name")), Values: map[string]string{}, Error: str(get(o, "error")),
			Metrics: map[string]map[string]float64{}}
		st.Trials = int(zeroNaN(num(get(o, "trials"))))
		st.Valid, _ = get(o, "valid").(bool)
		for _, f := range object(get(o, "values")) {
			st.Values[f.Key] = str(f.Value)
		}
		for _, f := range object(get(o, "metrics")) {
			agg := map[string]float64{}
			for _, s := range object(f.Value) {
				agg[s.Key] = num(s.Value)
			}
			st.Metrics[f.Key] = agg
		}
		for i, d := range strs(get(o, "artifact_dirs")) {
			rd := locateStepDir(dir, st.Name, d, len(strs(get(o, "artifact_dirs"))) > 1)
			if rd == "" {
				continue
			}
			r, err := Open(rd)
			if err != nil {
				return nil, fmt.Errorf("sweep %s, step %s: %w", dir, st.Name, err)
			}
			r.Step, r.Values, r.Name = st.Name, st.Values, st.Name
			if st.Trials > 1 {
				r.Trial = i + 1
				r.Name = st.Name + "/trial " + strconv.Itoa(i+1)
			}
			st.Runs = append(st.Runs, r)
			sw.Runs = append(sw.Runs, r)
		}
		sw.Steps = append(sw.Steps, st)
	}
	return sw, nil
}

// locateStepDir finds a step's run directory: the summary records paths as
// the run saw them (relative to its working directory), so the step's place
// under the sweep directory is tried first.
func locateStepDir(sweepDir, step, recorded string, trials bool) string {
	var cands []string
	if trials {
		cands = append(cands, filepath.Join(sweepDir, step, filepath.Base(recorded)))
	} else {
		cands = append(cands, filepath.Join(sweepDir, step), filepath.Join(sweepDir, filepath.Base(recorded)))
	}
	cands = append(cands, recorded)
	for _, c := range cands {
		if fileExists(filepath.Join(c, SummaryFile)) {
			return c
		}
	}
	return ""
}
