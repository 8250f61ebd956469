package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/loadstar/loadstar/engine/mock"
	"github.com/loadstar/loadstar/internal/collector"
	"github.com/loadstar/loadstar/internal/metrics"
	"github.com/loadstar/loadstar/internal/resultsdir"
)

// shardScenario is one step of each shardable strategy against the mock
// at vars["url"].
const shardScenario = `
kind = vars["kind"]
timings = {
    "request_rate": timing.request_rate(rate = 150),
    "concurrency": timing.concurrency(concurrency = 5),
    "user_centric_rate": timing.user_centric_rate(rate = 120, users = 7),
    "fixed_schedule": timing.fixed_schedule(auto_offset = True),
}
ds = dataset.file("trace.jsonl", type = "mooncake_trace") if kind == "fixed_schedule" else dataset.synthetic(isl = 32, osl = 8)
run(
    endpoint = endpoint.chat(url = vars["url"], model = "mock", streaming = True),
    dataset = ds,
    timing = timings[kind],
    requests = 0 if kind == "fixed_schedule" else 90,
    seed = 7,
)
`

// TestShardProcessesMergeToOneProcess runs a benchmark as three shard
// processes on 127.0.0.1, with the command line of a Kubernetes pod
// (loadstar run --shards 3 and JOB_COMPLETION_INDEX), against the mock,
// merges them with loadstar merge, and checks the merged artifacts against
// one process's statistics over the same records: the request count, the
// achieved rate and every statistic of every metric.
func TestShardProcessesMergeToOneProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("runs shard processes")
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	srv, err := mock.Start(context.Background(), mock.DefaultConfig(), mock.WithAddr("127.0.0.1", 0),
		mock.WithLatency(3*time.Millisecond, time.Millisecond), mock.WithSeed(1))
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	for _, kind := range []string{"request_rate", "concurrency", "user_centric_rate", "fixed_schedule"} {
		t.Run(kind, func(t *testing.T) {
			dir := t.TempDir()
			writeFile(t, filepath.Join(dir, "bench.star"), shardScenario)
			var trace strings.Builder
			for i := range 60 {
				fmt.Fprintf(&trace, `{"timestamp": %d, "input_length": 24, "output_length": 8}`+"\n", i*17)
			}
			writeFile(t, filepath.Join(dir, "trace.jsonl"), trace.String())
			const shards = 3
			start := time.Now().Add(6 * time.Second).UTC().Format(time.RFC3339Nano)
			var wg sync.WaitGroup
			outs := make([]bytes.Buffer, shards)
			errs := make([]error, shards)
			for i := range shards {
				wg.Add(1)
				go func() {
					defer wg.Done()
					cmd := exec.Command(self, "run", "bench.star", "--var", "url="+srv.URL(), "--var", "kind="+kind,
						"--shards", fmt.Sprint(shards), "--start-at", start, "--artifacts", fmt.Sprintf("shard-%d", i))
					cmd.Args[0] = "loadstar"
					cmd.Dir = dir
					cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%d", EnvJobIndex, i), "LOADSTAR_LOG_FORMAT=text")
					cmd.Stdout, cmd.Stderr = &outs[i], &outs[i]
					errs[i] = cmd.Run()
				}()
			}
			wg.Wait()
			for i, err := range errs {
				if err != nil {
					t.Fatalf("shard %d: %v\n%s", i, err, outs[i].String())
				}
			}
			merge := exec.Command(self, "merge", "shard-0", "shard-1", "shard-2", "-o", "merged", "-q")
			merge.Args[0] = "loadstar"
			merge.Dir = dir
			out, err := merge.CombinedOutput()
			if err != nil {
				t.Fatalf("merge: %v\n%s", err, out)
			}
			if !strings.Contains(string(out), "Merged 3 shards") || !strings.Contains(string(out), "exact statistics") {
				t.Errorf("merge said:\n%s", out)
			}
			checkMerged(t, dir, shards)
		})
	}
}

// checkMerged compares the merged run with the statistics of the union of
// the shards' records.
func checkMerged(t *testing.T, dir string, shards int) {
	t.Helper()
	runs, _, err := resultsdir.Scan(filepath.Join(dir, "merged"))
	if err != nil || len(runs) != 1 {
		t.Fatalf("merged runs: %v, %v", runs, err)
	}
	merged := runs[0]
	var union []*resultsdir.Records
	total := 0
	for i := range shards {
		rs, _, err := resultsdir.Scan(filepath.Join(dir, fmt.Sprintf("shard-%d", i)))
		if err != nil || len(rs) != 1 {
			t.Fatalf("shard %d runs: %v, %v", i, rs, err)
		}
		recs, err := rs[0].Records()
		if err != nil {
			t.Fatal(err)
		}
		if recs.Len() == 0 {
			t.Fatalf("shard %d sent nothing", i)
		}
		total += recs.Len()
		union = append(union, recs)
	}
	raw, err := os.ReadFile(filepath.Join(merged.Dir, resultsdir.SummaryFile))
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	if got := merged.Summary.Metric("request_count"); got == nil || int(got.Value) != total {
		t.Fatalf("merged request_count %v, the shards' records %d", got, total)
	}
	// Achieved rate: requests issued per second between the first and the
	// last start of any shard.
	var first, last int64
	for _, r := range union {
		for _, s := range r.StartNs {
			if first == 0 || s < first {
				first = s
			}
			last = max(last, s)
		}
	}
	achieved := float64(total-1) / (float64(last-first) / 1e9)
	if got := merged.Summary.Verdict.AchievedRate; !closeTo(got, achieved) {
		t.Errorf("achieved rate %v, the records' %v", got, achieved)
	}
	compared := 0
	for tag, block := range doc {
		var st struct {
			Avg, Min, Max, Std, P1, P5, P10, P25, P50, P75, P90, P95, P99 *float64
		}
		if json.Unmarshal(block, &st) != nil || st.P50 == nil || st.Avg == nil {
			continue
		}
		var vals []float64
		for _, r := range union {
			for _, v := range r.Column(tag) {
				if !math.IsNaN(v) {
					vals = append(vals, v)
				}
			}
		}
		if len(vals) == 0 {
			continue // a metric the records file does not carry
		}
		want := metrics.ExactStats(vals, 1)
		for _, p := range []struct {
			name string
			got  *float64
			want float64
		}{{"avg", st.Avg, want.Avg}, {"min", st.Min, want.Min}, {"max", st.Max, want.Max}, {"std", st.Std, want.Std},
			{"p1", st.P1, want.P1}, {"p5", st.P5, want.P5}, {"p10", st.P10, want.P10}, {"p25", st.P25, want.P25},
			{"p50", st.P50, want.P50}, {"p75", st.P75, want.P75}, {"p90", st.P90, want.P90}, {"p95", st.P95, want.P95},
			{"p99", st.P99, want.P99}} {
			if p.got != nil && !closeTo(*p.got, p.want) {
				t.Errorf("%s %s: merged %v, over the shards' records %v", tag, p.name, *p.got, p.want)
			}
		}
		compared++
	}
	if compared < 10 {
		t.Errorf("only %d metrics compared", compared)
	}
}

// closeTo allows for the records file's decimal rendering of values.
func closeTo(a, b float64) bool {
	return math.Abs(a-b) <= 1e-9*math.Max(1, math.Max(math.Abs(a), math.Abs(b)))
}

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// With a collector (what the Kubernetes pods run), the shards start every
// step together at the collector's start, report their clock offset, and
// upload their artifacts, which merge into the benchmark.
func TestShardProcessesThroughTheCollector(t *testing.T) {
	if testing.Short() {
		t.Skip("runs shard processes")
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	srv, err := mock.Start(context.Background(), mock.DefaultConfig(), mock.WithAddr("127.0.0.1", 0), mock.WithFast())
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	col, err := collector.NewServer(2, t.TempDir(), collector.WithMargin(2*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(col.Handler())
	defer hs.Close()
	dir := t.TempDir()
	// Two steps without a seed: the collector's run key seeds them alike.
	writeFile(t, filepath.Join(dir, "bench.star"), `
for rate in [100, 200]:
    run(endpoint = endpoint.chat(url = vars["url"], model = "mock"), dataset = dataset.synthetic(isl = 16, osl = 4),
        timing = timing.request_rate(rate = rate), requests = 40, artifact_dir = "out/rate-%d" % rate)
`)
	var wg sync.WaitGroup
	outs := make([]bytes.Buffer, 2)
	errs := make([]error, 2)
	for i := range 2 {
		must(t, os.MkdirAll(filepath.Join(dir, fmt.Sprint(i)), 0o755))
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := exec.Command(self, "run", filepath.Join(dir, "bench.star"), "--var", "url="+srv.URL(), "--shards", "2",
				"--collector", hs.URL, "--pod", fmt.Sprintf("bench-%d-abcde", i))
			cmd.Args[0] = "loadstar"
			cmd.Dir = filepath.Join(dir, fmt.Sprint(i))
			cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%d", EnvJobIndex, i))
			cmd.Stdout, cmd.Stderr = &outs[i], &outs[i]
			errs[i] = cmd.Run()
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil || !strings.Contains(outs[i].String(), "Clock offset against the collector") || !strings.Contains(outs[i].String(), "Uploaded shard") {
			t.Fatalf("shard %d: %v\n%s", i, err, outs[i].String())
		}
	}
	st := col.Status()
	if len(st.Uploads) != 2 || len(st.Steps) != 2 || st.Steps[1].Start.IsZero() {
		t.Fatalf("collector status %+v", st)
	}
	c, err := collector.NewClient(hs.URL)
	if err != nil {
		t.Fatal(err)
	}
	var roots []string
	for _, up := range st.Uploads {
		d := filepath.Join(dir, "collected", fmt.Sprint(up.Shard))
		if err := collector.Fetch(context.Background(), c, up, d); err != nil {
			t.Fatal(err)
		}
		roots = append(roots, d)
	}
	merge := exec.Command(self, append(append([]string{"merge"}, roots...), "-o", filepath.Join(dir, "merged"), "-q")...)
	merge.Args[0] = "loadstar"
	out, err := merge.CombinedOutput()
	if err != nil || strings.Count(string(out), "Merged 2 shards") != 2 {
		t.Fatalf("merge: %v\n%s", err, out)
	}
	for _, rate := range []string{"rate-100", "rate-200"} {
		raw, err := os.ReadFile(filepath.Join(dir, "merged", "out", rate, resultsdir.SummaryFile))
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			RequestCount struct{ Avg float64 } `json:"request_count"`
			Loadstar     struct {
				Shards []struct {
					ClockReference string  `json:"clock_reference"`
					SkewMs         float64 `json:"start_skew_ms"`
				} `json:"shards"`
			} `json:"loadstar"`
		}
		if err := json.Unmarshal(raw, &doc); err != nil {
			t.Fatal(err)
		}
		if doc.RequestCount.Avg != 40 || len(doc.Loadstar.Shards) != 2 || doc.Loadstar.Shards[1].ClockReference != hs.URL {
			t.Errorf("%s: %+v", rate, doc)
		}
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
