package resultsdir

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"strconv"
)

// Records are a run's profiling-phase requests from profile_export.jsonl,
// one column per field, in file order (the order requests finished).
// Warmup records are skipped.
type Records struct {
	// StartNs and EndNs are wall-clock Unix ns (EndNs 0 when unknown).
	StartNs, EndNs []int64
	// ErrorType is the error's type ("" for a successful request), Cancelled
	// whether the request was cancelled.
	ErrorType []string
	Cancelled []bool
	// Values holds each read metric, NaN where a record has none.
	Values map[string][]float64
	// Units are the metrics' display units.
	Units map[string]string
	// Warmup counts the warmup records skipped.
	Warmup int
}

// Len is the number of records.
func (r *Records) Len() int { return len(r.StartNs) }

// Column returns a metric's values (NaN where absent), nil when no record
// has it.
func (r *Records) Column(tag string) []float64 { return r.Values[tag] }

// Valid returns a metric's values on successful requests, without gaps.
func (r *Records) Valid(tag string) []float64 {
	col := r.Values[tag]
	out := make([]float64, 0, len(col))
	for i, v := range col {
		if r.ErrorType[i] == "" && !math.IsNaN(v) {
			out = append(out, v)
		}
	}
	return out
}

// FirstStartNs is the earliest request start (0 without records).
func (r *Records) FirstStartNs() int64 {
	var first int64
	for _, s := range r.StartNs {
		if s > 0 && (first == 0 || s < first) {
			first = s
		}
	}
	return first
}

// Errors counts failed records.
func (r *Records) Errors() int {
	n := 0
	for _, e := range r.ErrorType {
		if e != "" {
			n++
		}
	}
	return n
}

type recordLine struct {
	Metadata struct {
		RequestStartNs json.Number `json:"request_start_ns"`
		RequestEndNs   json.Number `json:"request_end_ns"`
		TimestampNs    json.Number `json:"timestamp_ns"` // AIPerf before request_start_ns
		Phase          string      `json:"benchmark_phase"`
		CreditPhase    string      `json:"credit_phase"`
		WasCancelled   bool        `json:"was_cancelled"`
	} `json:"metadata"`
	Metrics map[string]struct {
		Value json.RawMessage `json:"value"`
		Unit  string          `json:"unit"`
	} `json:"metrics"`
	Error *struct {
		Code int    `json:"code"`
		Type string `json:"type"`
	} `json:"error"`
}

// Records reads the run's per-request records, keeping the metrics named by
// tags (every scalar metric when none are given). A malformed line is an
// error naming the file and line.
func (r *Run) Records(tags ...string) (*Records, error) {
	return ReadRecords(r.recordsPath, tags...)
}

// ReadRecords reads a profile_export.jsonl file (see Run.Records).
func ReadRecords(path string, tags ...string) (*Records, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	want := map[string]bool{}
	for _, t := range tags {
		want[t] = true
	}
	recs := &Records{Values: map[string][]float64{}, Units: map[string]string{}}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<30)
	line := 0
	for sc.Scan() {
		line++
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		var rl recordLine
		if err := json.Unmarshal(b, &rl); err != nil {
			return nil, fmt.Errorf("%s:%d: not a record: %w", path, line, err)
		}
		phase := rl.Metadata.Phase
		if phase == "" {
			phase = rl.Metadata.CreditPhase
		}
		if phase == "warmup" {
			recs.Warmup++
			continue
		}
		recs.add(&rl, want)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s:%d: %w", path, line+1, err)
	}
	return recs, nil
}

func (recs *Records) add(rl *recordLine, want map[string]bool) {
	n := len(recs.StartNs)
	start := intOf(rl.Metadata.RequestStartNs)
	if start == 0 {
		start = intOf(rl.Metadata.TimestampNs)
	}
	recs.StartNs = append(recs.StartNs, start)
	recs.EndNs = append(recs.EndNs, intOf(rl.Metadata.RequestEndNs))
	et := ""
	if rl.Error != nil {
		et = rl.Error.Type
		if et == "" {
			et = "error " + strconv.Itoa(rl.Error.Code)
		}
	}
	recs.ErrorType = append(recs.ErrorType, et)
	recs.Cancelled = append(recs.Cancelled, rl.Metadata.WasCancelled)
	for tag, m := range rl.Metrics {
		if len(want) > 0 && !want[tag] {
			continue
		}
		v, ok := scalar(m.Value)
		if !ok {
			continue
		}
		col, seen := recs.Values[tag]
		if !seen {
			col = make([]float64, n, max(n+1, 16))
			for i := range col {
				col[i] = math.NaN()
			}
			recs.Units[tag] = m.Unit
		}
		recs.Values[tag] = append(col, v)
	}
	for tag, col := range recs.Values { // pad the metrics this record lacks
		if len(col) == n {
			recs.Values[tag] = append(col, math.NaN())
		}
	}
}

func intOf(n json.Number) int64 {
	if n == "" {
		return 0
	}
	if i, err := n.Int64(); err == nil {
		return i
	}
	f, _ := n.Float64()
	return int64(f)
}

// scalar reads a numeric metric value; lists and other values are skipped.
func scalar(raw json.RawMessage) (float64, bool) {
	if len(raw) == 0 || raw[0] == '[' || raw[0] == '{' || raw[0] == 'n' {
		return 0, false
	}
	f, err := strconv.ParseFloat(string(raw), 64)
	if err != nil {
		return num(string(bytes.Trim(raw, `"`))), true
	}
	return f, true
}
