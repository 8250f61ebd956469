package metrics

import (
	"bytes"
	"context"
	"encoding/gob"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/loadstar/loadstar/engine/config"
	"github.com/loadstar/loadstar/engine/record"
	"github.com/loadstar/loadstar/engine/results"
)

// shardRecords returns n varied profiling records: streamed answers of
// random lengths and timings, some failed, on a schedule; every shard
// stamps its own monotonic clock (a different offset to the wall clock).
func shardRecords(n int) []*record.Record {
	rng := rand.New(rand.NewPCG(7, 19))
	var recs []*record.Record
	for i := range n {
		wall := int64(1_700_000_000_000_000_000) + int64(i)*3_000_000 + rng.Int64N(1_000_000)
		start := wall - 1_600_000_000_000_000_000
		if i%9 == 4 {
			r := record.New()
			r.StartNs, r.StartWallNs, r.EndNs = start, wall, start+rng.Int64N(5e6)+1
			r.ScheduledNs = start - rng.Int64N(200_000)
			r.InputTokens = 5 + rng.IntN(20)
			r.Error = &record.ErrorDetails{Code: 500 + i%2, Type: "server", Message: fmt.Sprintf("boom %d", i%3)}
			recs = append(recs, r)
			continue
		}
		var chunks []chunk
		at := int64(0)
		for k := range 1 + rng.IntN(8) {
			at += 1 + rng.Int64N(20_000_000)
			chunks = append(chunks, chunk{at: at, text: fmt.Sprintf("w%d w", k)})
		}
		r := streamRecord(start, wall, chunks...)
		r.ScheduledNs = start - rng.Int64N(2_000_000)
		r.InputTokens = 5 + rng.IntN(50)
		recs = append(recs, r)
	}
	return recs
}

// feed processes recs into a new MetricResults.
func feed(t *testing.T, recs []*record.Record, limit int, slice time.Duration) *MetricResults {
	t.Helper()
	m := NewMetricResults(streamingChat, []slo{{id: recordIndex("time_to_first_token"), threshold: 15e6}}, limit, slice)
	rm := NewRecordMetrics(streamingChat, false, words{})
	for _, r := range recs {
		c := *r
		var v Values
		if err := rm.ProcessRecord(&c, &v); err != nil {
			t.Fatal(err)
		}
		if err := m.ProcessResult(&c, &v); err != nil {
			t.Fatal(err)
		}
	}
	return m
}

func summarize(t *testing.T, m *MetricResults) *results.Summary {
	t.Helper()
	s := &results.Summary{Config: &config.Benchmark{}, Info: results.RunInfo{OpenLoop: true, ScheduledRate: 300}}
	if err := m.Summarize(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	return s
}

// mergeShards splits recs over n shards (record i to shard i mod n), takes
// each shard's State through gob, as a file would, and merges them.
func mergeShards(t *testing.T, recs []*record.Record, n, limit int, slice time.Duration) *MetricResults {
	t.Helper()
	var states []*State
	for k := range n {
		var part []*record.Record
		for i := k; i < len(recs); i += n {
			part = append(part, recs[i])
		}
		st, err := feed(t, part, limit, slice).State()
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := gob.NewEncoder(&buf).Encode(st); err != nil {
			t.Fatal(err)
		}
		var back State
		if err := gob.NewDecoder(&buf).Decode(&back); err != nil {
			t.Fatal(err)
		}
		states = append(states, &back)
	}
	m, err := MergeStates(states)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// The merge of exact shard states is the single process's summary, every
// statistic, slice, error group and verdict figure identical.
func TestMergeStatesIsTheSingleProcess(t *testing.T) {
	recs := shardRecords(2000)
	whole := summarize(t, feed(t, recs, 0, 500*time.Millisecond))
	for _, n := range []int{1, 3, 4} {
		merged := summarize(t, mergeShards(t, recs, n, 0, 500*time.Millisecond))
		// %+v, not reflect.DeepEqual: a NaN statistic equals itself.
		if a, b := fmt.Sprintf("%+v", stats(whole.Metrics)), fmt.Sprintf("%+v", stats(merged.Metrics)); a != b {
			t.Fatalf("%d shards: merged metrics\n%s\nsingle\n%s", n, b, a)
		}
		var ws, ms []string
		for k := range whole.Timeslices {
			ws = append(ws, fmt.Sprintf("%+v", stats(whole.Timeslices[k].Metrics)))
		}
		for k := range merged.Timeslices {
			ms = append(ms, fmt.Sprintf("%+v", stats(merged.Timeslices[k].Metrics)))
		}
		if !reflect.DeepEqual(ws, ms) {
			t.Errorf("%d shards: time slices differ", n)
		}
		if !reflect.DeepEqual(whole.Errors, merged.Errors) {
			t.Errorf("%d shards: errors or slices differ:\n%+v\n%+v", n, whole.Errors, merged.Errors)
		}
		if !reflect.DeepEqual(whole.Verdict, merged.Verdict) {
			t.Errorf("%d shards: verdict\nmerged %+v\nsingle %+v", n, merged.Verdict, whole.Verdict)
		}
	}
	if whole.Metric("request_count").Value != 1778 || whole.Metric("error_request_count").Value != 222 || len(whole.Timeslices) < 10 || len(whole.Errors) < 2 {
		t.Fatalf("the records did not exercise the merge: %v requests, %d slices, %d error groups",
			whole.Metric("request_count").Value, len(whole.Timeslices), len(whole.Errors))
	}
}

// Beyond the exact-stats limit the merged histograms give the single
// process's histogram statistics: counts, min and max exact, percentiles
// within the stated precision.
func TestMergeStatesBeyondTheLimit(t *testing.T) {
	recs := shardRecords(2000)
	exact := summarize(t, feed(t, recs, 0, 0))
	for _, limit := range []int{300, 600} { // 600: every shard exact, together beyond
		merged := summarize(t, mergeShards(t, recs, 4, limit, 0))
		for _, tag := range []string{"time_to_first_token", "request_latency", "inter_token_latency", "output_sequence_length"} {
			a, b := exact.Metric(tag).Stats, merged.Metric(tag).Stats
			if !b.Approx || b.Precision != hdrPrecision || b.Count != a.Count || b.Min != a.Min || b.Max != a.Max ||
				math.Abs(b.Avg-a.Avg) > 1e-9*a.Avg {
				t.Errorf("limit %d: %s merged %+v, exact %+v", limit, tag, b, a)
			}
			for _, p := range [][2]float64{{a.P50, b.P50}, {a.P90, b.P90}, {a.P99, b.P99}} {
				// HDR holds values to 3 significant digits; interpolation
				// between neighbours adds up to one gap.
				if math.Abs(p[1]-p[0]) > 0.002*p[0]+(a.Max-a.Min)/500 {
					t.Errorf("limit %d: %s percentile %v, exact %v", limit, tag, p[1], p[0])
				}
			}
		}
		if merged.Metric("request_count").Value != exact.Metric("request_count").Value {
			t.Errorf("limit %d: request_count %v, want %v", limit, merged.Metric("request_count").Value, exact.Metric("request_count").Value)
		}
	}
}

func TestMergeStatesRefusesDifferentSetups(t *testing.T) {
	recs := shardRecords(50)
	a, _ := feed(t, recs, 0, 0).State()
	b, _ := feed(t, recs, 100, 0).State()
	if _, err := MergeStates([]*State{a, b}); err == nil {
		t.Error("states of different exact-stats limits merged")
	}
}

// stats lists each metric's tag, value and statistics.
func stats(ms []results.Metric) []string {
	var out []string
	for _, m := range ms {
		s := fmt.Sprintf("%s=%v", m.Tag, m.Value)
		if m.Stats != nil {
			s += fmt.Sprintf("%+v", *m.Stats)
		}
		out = append(out, s)
	}
	return out
}
