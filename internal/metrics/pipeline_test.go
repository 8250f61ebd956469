package metrics

import (
	"context"
	"math"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/loadstar/loadstar/engine/config"
	"github.com/loadstar/loadstar/engine/plugin"
	"github.com/loadstar/loadstar/engine/record"
	"github.com/loadstar/loadstar/engine/results"
)

const (
	ms   = int64(time.Millisecond)
	sec  = int64(time.Second)
	wall = int64(1_700_000_000) * sec // wall clock of mono 0
)

// req builds a valid streaming record started at mono start (ns) with
// TTFT ttft, latency lat and osl tokens: one word at TTFT, the rest at the
// end. It is scheduled exactly on time.
func req(start, ttft, lat int64, osl int) *record.Record {
	rest := strings.Repeat(" w", osl-1)
	r := streamRecord(start, wall+start, chunk{at: ttft, text: "w"}, chunk{at: lat, text: rest})
	r.ScheduledNs, r.CreditNs = start, start
	return r
}

func errReq(start int64) *record.Record {
	r := record.New()
	r.StartNs, r.StartWallNs, r.EndNs, r.ScheduledNs = start, wall+start, start+5*ms, start
	r.Status = 500
	r.InputTokens = 7
	r.SetError(500, "Internal Server Error", "boom")
	return r
}

func benchCfg(t *testing.T) *config.Benchmark {
	cfg := config.Defaults()
	cfg.Endpoint = &plugin.Spec{Category: plugin.Endpoint, Name: "chat", Args: plugin.Args{"model": "org/m", "api_key": "sk-secret"}}
	cfg.Timing = &plugin.Spec{Category: plugin.TimingStrategy, Name: "request_rate", Args: plugin.Args{"rate": int64(2)}}
	cfg.Stop.Requests = 5
	cfg.Seed, cfg.SeedSet = 42, true
	cfg.Output.ArtifactDir = t.TempDir()
	return &cfg
}

func run(t *testing.T, cfg *config.Benchmark, setup Setup, info results.RunInfo, recs ...*record.Record) *results.Summary {
	t.Helper()
	if setup.Endpoint == (plugin.EndpointMetadata{}) {
		setup.Endpoint = chatMeta
		setup.EndpointType = "chat"
		setup.Streaming = true
	}
	if setup.Tokenizer == nil {
		setup.Tokenizer = words{}
	}
	p, err := NewPipeline(cfg, nil, setup)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		p.Add(r)
	}
	sum, err := p.Finish(context.Background(), info)
	if err != nil {
		t.Fatal(err)
	}
	return sum
}

// scenario is the hand-computed run of the aggregate tests:
//
//	request  wall start  TTFT   latency  OSL  ITL
//	r0       +0.5 s      100ms  500ms    5    100ms
//	r1       +0.7 s      200ms  1000ms   9    100ms
//	e0       +1.5 s      (500 error, ISL 7)
//	r2       +2.0 s      300ms  700ms    3    200ms
//	r3       +2.5 s      400ms  1000ms   4    200ms
//
// benchmark_duration = (2.5+1.0) − 0.5 = 3.0 s.
func scenario() []*record.Record {
	return []*record.Record{
		req(500*ms, 100*ms, 500*ms, 5),
		req(700*ms, 200*ms, 1000*ms, 9),
		errReq(1500 * ms),
		req(2000*ms, 300*ms, 700*ms, 3),
		req(2500*ms, 400*ms, 1000*ms, 4),
	}
}

func metric(t *testing.T, s *results.Summary, tag string) *results.Metric {
	t.Helper()
	m := s.Metric(tag)
	if m == nil {
		t.Fatalf("metric %s missing", tag)
	}
	return m
}

func TestAggregatesAndDerived(t *testing.T) {
	cfg := benchCfg(t)
	cfg.SLOs = []config.SLO{{Metric: "time_to_first_token", Op: "<=", Threshold: 250e6}}
	sum := run(t, cfg, Setup{}, results.RunInfo{ScheduledRate: 2, Issued: 5}, scenario()...)

	values := map[string]float64{
		"request_count":           4,
		"error_request_count":     1,
		"completed_request_count": 5,
		"request_error_rate":      20,
		"benchmark_duration":      3.0,
		"request_throughput":      4.0 / 3,
		"total_osl":               21,
		"total_isl":               28,
		"total_output_tokens":     21,
		"output_token_throughput": 7,
		"input_token_throughput":  28.0 / 3,
		"total_token_throughput":  49.0 / 3,
		"total_error_isl":         7,
		"good_request_count":      2,
		"goodput":                 2.0 / 3,
		"good_request_fraction":   0.4,
	}
	for tag, want := range values {
		if got := metric(t, sum, tag).Value; !near(got, want) {
			t.Errorf("%s = %v, want %v", tag, got, want)
		}
	}
	ttft := metric(t, sum, "time_to_first_token")
	if ttft.Unit != "ms" || ttft.Stats.Count != 4 || !near(ttft.Stats.Avg, 250) || !near(ttft.Stats.P90, 370) ||
		!near(ttft.Stats.Std, math.Sqrt(12500)) || !near(ttft.Stats.Sum, 1000) {
		t.Errorf("TTFT stats %+v", ttft.Stats)
	}
	itl := metric(t, sum, "inter_token_latency").Stats
	if !near(itl.Avg, 150) || !near(itl.P50, 150) || itl.Min != 100 || itl.Max != 200 {
		t.Errorf("ITL stats %+v", itl)
	}
	if osl := metric(t, sum, "output_sequence_length"); !osl.Integer || osl.Stats.Max != 9 || osl.Unit != "tokens" {
		t.Errorf("OSL %+v %+v", osl, osl.Stats)
	}
	if e := metric(t, sum, "error_isl").Stats; e.Count != 1 || e.Avg != 7 {
		t.Errorf("error_isl %+v", e)
	}
	// Per-record metric count equals request_count (AIPerf invariant).
	if metric(t, sum, "request_latency").Stats.Count != 4 {
		t.Error("request_latency count != request_count")
	}
	// Failure-adjusted latency: [500 700 1000 1000] ms plus one +inf,
	// nearest-rank percentiles over 5 values.
	adj := metric(t, sum, "adj_request_latency").Stats
	inf := math.Inf(1)
	if adj.Count != 5 || adj.P1 != 500 || adj.P25 != 700 || adj.P50 != 1000 || adj.P75 != 1000 || adj.P90 != inf ||
		adj.Min != 500 || adj.Max != inf || adj.Avg != inf || !math.IsNaN(adj.Std) {
		t.Errorf("adj_request_latency %+v", adj)
	}
	if len(sum.Errors) != 1 || sum.Errors[0].Count != 1 || sum.Errors[0].Details.Message != "boom" {
		t.Errorf("errors %+v", sum.Errors)
	}
	if sum.TokenSource != "client:words" {
		t.Errorf("token source %q", sum.TokenSource)
	}
	// Achieved vs scheduled: 5 sends between 0.5 s and 2.5 s, on schedule.
	v := sum.Verdict
	if !v.Valid || !near(v.AchievedRate, 2) || !near(v.ScheduleRate, 2) || v.ShortfallPct != 0 || v.Late != 0 {
		t.Errorf("verdict %+v", v)
	}
	if v.IssueDelay == nil || v.IssueDelay.Count != 5 || v.IssueDelay.Max != 0 {
		t.Errorf("issue delay %+v", v.IssueDelay)
	}
}

func TestAllRequestsFailingStillSummarized(t *testing.T) {
	cfg := benchCfg(t)
	sum := run(t, cfg, Setup{}, results.RunInfo{}, errReq(1*sec), errReq(2*sec))
	if sum.Metric("request_count") != nil || sum.Metric("benchmark_duration") != nil || sum.Metric("request_throughput") != nil {
		t.Error("success metrics reported for an all-failed run")
	}
	if got := metric(t, sum, "error_request_count").Value; got != 2 {
		t.Errorf("error_request_count = %v", got)
	}
	if got := metric(t, sum, "request_error_rate").Value; got != 100 {
		t.Errorf("request_error_rate = %v", got)
	}
	if sum.Verdict.Valid || !strings.Contains(strings.Join(sum.Verdict.Reasons, ";"), "no request succeeded") {
		t.Errorf("verdict %+v", sum.Verdict)
	}
	if len(sum.Errors) != 1 || sum.Errors[0].Count != 2 {
		t.Errorf("error summary %+v", sum.Errors)
	}
}

// openLoop is the RunInfo of a request_rate run at rate req/s.
func openLoop(rate float64) results.RunInfo {
	return results.RunInfo{ScheduledRate: rate, OpenLoop: true, Arrival: "arrival.constant()"}
}

func TestVerdictFlagsFallingBehind(t *testing.T) {
	// Ten requests scheduled every 100 ms; request k is sent k·10 ms late:
	// issue delays 0, 10, …, 90 ms, p99 = 80 + 0.91·10 = 89.1 ms. The
	// lateness limit is the larger of 25% of the 100 ms gap (25 ms) and 5%
	// of the 20 ms median latency: 25 ms. Sent 9 gaps in 0.99 s = 9.09
	// req/s, 9.09% short of 10; the accepted lateness stretches the 900 ms
	// schedule to at most 925 ms: 25 / 925 = 2.70% shortfall explained.
	var recs []*record.Record
	for k := int64(0); k < 10; k++ {
		sched := sec + k*100*ms
		r := req(sched+k*10*ms, 10*ms, 20*ms, 3)
		r.ScheduledNs = sched
		recs = append(recs, r)
	}
	sum := run(t, benchCfg(t), Setup{}, openLoop(10), recs...)
	v := sum.Verdict
	if v.Valid || v.Late != 7 || v.LateThresholdMs != 25 {
		t.Fatalf("verdict %+v", v)
	}
	if !near(v.ScheduleRate, 10) || !near(v.AchievedRate, 9/0.99) {
		t.Errorf("rates %v %v", v.ScheduleRate, v.AchievedRate)
	}
	reasons := strings.Join(v.Reasons, "\n")
	for _, want := range []string{
		"p99 issue delay 89.10 ms exceeds the 25.00 ms limit (the larger share of the 100.00 ms mean gap between arrivals and of the 20.00 ms median latency)",
		"sent 9.09 req/s, 9.09% below the 10.00 req/s the schedule drew (limit 2.70%)",
	} {
		if !strings.Contains(reasons, want) {
			t.Errorf("reasons %q lack %q", reasons, want)
		}
	}
	if want := "target 10 req/s (constant, 10 arrivals drawn: 10.00 req/s), sent 9.09 req/s, 7 late"; v.Schedule != want {
		t.Errorf("schedule sentence\n got %q\nwant %q", v.Schedule, want)
	}
	if d := metric(t, sum, "issue_delay").Stats; !near(d.P50, 45) || !near(d.Max, 90) {
		t.Errorf("issue delay %+v", d)
	}
	if s := metric(t, sum, "scheduled_request_latency").Stats; !near(s.Max, 110) || !near(s.Min, 20) {
		t.Errorf("scheduled latency %+v", s)
	}
}

func TestVerdictAcceptsHealthyLateness(t *testing.T) {
	// The same schedule sent with a jitter of up to 6 ms (a loaded machine):
	// well inside the 25 ms limit, and the rate is kept.
	var recs []*record.Record
	for k := int64(0); k < 10; k++ {
		sched := sec + k*100*ms
		r := req(sched+(k%4)*2*ms, 10*ms, 20*ms, 3)
		r.ScheduledNs = sched
		recs = append(recs, r)
	}
	v := run(t, benchCfg(t), Setup{}, openLoop(10), recs...).Verdict
	if !v.Valid || v.Late != 0 {
		t.Fatalf("verdict %+v", v)
	}
	// An explicit limit replaces the derived one.
	cfg := benchCfg(t)
	cfg.Validity.MaxIssueDelayP99 = 2 * time.Millisecond
	v = run(t, cfg, Setup{}, openLoop(10), recs...).Verdict
	if v.Valid || !strings.Contains(strings.Join(v.Reasons, ";"), "exceeds the 2.00 ms limit") || v.Late != 4 {
		t.Errorf("explicit limit: verdict %+v", v)
	}
}

func TestHealthWarnsOfStealTime(t *testing.T) {
	var recs []*record.Record
	for k := int64(0); k < 10; k++ {
		r := req(sec+k*100*ms, 10*ms, 20*ms, 3)
		r.ScheduledNs = sec + k*100*ms
		recs = append(recs, r)
	}
	for _, c := range []struct {
		steal float64
		want  string // "" for no warning
	}{
		{0, ""},
		{0.05, ""}, // the limit itself passes
		{0.123, "the hypervisor gave 12.3% of this machine's CPU time to other virtual machines during the run (steal time)"},
	} {
		info := openLoop(10)
		info.Health = &results.ClientHealth{CPUs: 2, CPUShare: 0.2, StealShare: c.steal}
		sum := run(t, benchCfg(t), Setup{}, info, recs...)
		got := strings.Join(sum.Info.Warnings, "\n")
		if c.want == "" && got != "" || c.want != "" && !strings.Contains(got, c.want) {
			t.Errorf("steal %v: warnings %q, want %q", c.steal, got, c.want)
		}
		if !sum.Verdict.Valid {
			t.Errorf("steal %v: a warning must not change the verdict: %+v", c.steal, sum.Verdict)
		}
	}
}

// A short schedule must not excuse any shortfall: lateness within the
// limit L stretches a schedule of span S to at most S + L, so it explains a
// shortfall of L / (S + L), never more (L / S would pass a 50,000 req/s
// schedule of 60 ms sent at 1,750 req/s). 100 arrivals every 1 ms (S =
// 99 ms, 1,000 req/s), 1 s latency: L = 5% of 1,000 ms = 50 ms. The last
// leaves 60 ms late: p99 issue delay 0.6 ms (within L), sent 99 gaps in
// 159 ms = 622.64 req/s, 37.74% short; explained 50 / 149 = 33.56%.
func TestVerdictShortfallBeyondWhatLatenessExplains(t *testing.T) {
	var recs []*record.Record
	for k := int64(0); k < 100; k++ {
		sched := sec + k*ms
		late := int64(0)
		if k == 99 {
			late = 60 * ms
		}
		r := req(sched+late, 10*ms, sec, 3)
		r.ScheduledNs = sched
		recs = append(recs, r)
	}
	v := run(t, benchCfg(t), Setup{}, openLoop(1000), recs...).Verdict
	if v.Valid || v.Late != 1 || v.LateThresholdMs != 50 {
		t.Fatalf("verdict %+v", v)
	}
	reasons := strings.Join(v.Reasons, "\n")
	if want := "sent 622.64 req/s, 37.74% below the 1,000.00 req/s the schedule drew (limit 33.56%)"; reasons != want {
		t.Errorf("reasons\n got %q\nwant %q", reasons, want)
	}
}

func TestClosedLoopIsNeverInvalidForIssueDelay(t *testing.T) {
	// Closed loop: requests wait for slots, so they leave "late" — up to a
	// second here — and that is reported, never judged.
	var recs []*record.Record
	for k := int64(0); k < 10; k++ {
		sched := sec + k*100*ms
		r := req(sched+k*100*ms, 10*ms, 20*ms, 3)
		r.ScheduledNs = sched
		recs = append(recs, r)
	}
	sum := run(t, benchCfg(t), Setup{}, results.RunInfo{Concurrency: 2}, recs...)
	v := sum.Verdict
	if !v.Valid || v.OpenLoop {
		t.Fatalf("closed loop verdict %+v", v)
	}
	if d := metric(t, sum, "issue_delay").Stats; !near(d.Max, 900) {
		t.Errorf("issue delay still reported: %+v", d)
	}
	if want := "closed loop (concurrency 2): sent 5.00 req/s, each as a request finished; issue delay is reported, not judged"; v.Schedule != want {
		t.Errorf("schedule sentence\n got %q\nwant %q", v.Schedule, want)
	}
}

func TestTimeslices(t *testing.T) {
	cfg := benchCfg(t)
	cfg.Output.SliceDuration = 2 * time.Second
	sum := run(t, cfg, Setup{}, results.RunInfo{}, scenario()...)
	if len(sum.Timeslices) != 2 {
		t.Fatalf("%d slices", len(sum.Timeslices))
	}
	s0, s1 := sum.Timeslices[0], sum.Timeslices[1]
	get := func(ts results.Timeslice, tag string) *results.Metric {
		for i := range ts.Metrics {
			if ts.Metrics[i].Tag == tag {
				return &ts.Metrics[i]
			}
		}
		t.Fatalf("slice %d lacks %s", ts.Index, tag)
		return nil
	}
	// Slice 0 = [0.5 s, 2.5 s): r0, r1, r2 and the error.
	if !s0.Complete || s0.EndNs-s0.StartNs != 2*sec || s0.StartNs != wall+500*ms {
		t.Errorf("slice 0 window %+v", s0)
	}
	for tag, want := range map[string]float64{"request_count": 3, "error_request_count": 1, "request_throughput": 1.5, "output_token_throughput": 8.5} {
		if got := get(s0, tag).Value; !near(got, want) {
			t.Errorf("slice 0 %s = %v, want %v", tag, got, want)
		}
	}
	if st := get(s0, "time_to_first_token").Stats; st.Count != 3 || !near(st.Avg, 200) {
		t.Errorf("slice 0 TTFT %+v", st)
	}
	// Slice 1 holds r3 and ends with the run (3.5 s + 1 ns): partial.
	if s1.Complete || s1.EndNs != wall+3500*ms+1 {
		t.Errorf("slice 1 window %+v", s1)
	}
	if got := get(s1, "request_count").Value; got != 1 {
		t.Errorf("slice 1 request_count = %v", got)
	}
}

func TestBeyondExactLimitUsesHDR(t *testing.T) {
	cfg := benchCfg(t)
	cfg.Output.SliceDuration = time.Second
	recs := make([]*record.Record, 0, 400)
	for i := int64(0); i < 400; i++ {
		recs = append(recs, req(sec+i*10*ms, (10+i%50)*ms, (100+i%50)*ms, 5))
	}
	p, err := NewPipeline(cfg, &config.Runtime{ExactStatsLimit: 100}, Setup{Endpoint: chatMeta, EndpointType: "chat", Streaming: true, Tokenizer: words{}})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		p.Add(r)
	}
	sum, err := p.Finish(context.Background(), results.RunInfo{})
	if err != nil {
		t.Fatal(err)
	}
	ttft := metric(t, sum, "time_to_first_token").Stats
	if !ttft.Approx || ttft.Count != 400 || !near(ttft.Avg, 34.5) || ttft.Min != 10 || ttft.Max != 59 {
		t.Errorf("TTFT %+v", ttft)
	}
	if math.Abs(ttft.P50-34.5) > 0.6 { // exact p50 34.5; one sample step is 1 ms
		t.Errorf("p50 %v", ttft.P50)
	}
	if got := metric(t, sum, "request_count").Value; got != 400 {
		t.Errorf("request_count %v", got)
	}
	// Slices keep working from per-slice histograms: 100 requests each.
	total := 0.0
	for _, s := range sum.Timeslices {
		for _, m := range s.Metrics {
			if m.Tag == "request_count" {
				total += m.Value
			}
		}
	}
	if len(sum.Timeslices) != 4 || total != 400 {
		t.Errorf("%d slices, %v requests", len(sum.Timeslices), total)
	}
	if !strings.Contains(strings.Join(sum.Notes, " "), "HDR-derived") {
		t.Errorf("notes %q", sum.Notes)
	}
}

func TestWarmupExcludedButSunk(t *testing.T) {
	cfg := benchCfg(t)
	w := req(100*ms, 10*ms, 20*ms, 2)
	w.Phase = record.Warmup
	rows := &rowSink{}
	sum := run(t, cfg, Setup{Sinks: []RecordSink{rows}}, results.RunInfo{}, w, req(sec, 10*ms, 30*ms, 2))
	if got := metric(t, sum, "request_count").Value; got != 1 {
		t.Errorf("request_count = %v", got)
	}
	// Records are processed by several workers: rows follow processing
	// order, not necessarily arrival order.
	warm := 0
	for _, r := range rows.rows {
		if r.phase == record.Warmup {
			warm++
		}
	}
	if len(rows.rows) != 2 || warm != 1 {
		t.Errorf("rows %+v", rows.rows)
	}
}

// rowSink keeps a copy of every row a pipeline hands over.
type rowSink struct {
	rows    []sunkRow
	flushes atomic.Int64
}

type sunkRow struct {
	phase   record.Phase
	failed  bool
	metrics map[string]results.MetricValue
	order   []string
	icl     []float64
}

func (s *rowSink) WriteRecord(row *results.RecordRow) {
	r := sunkRow{phase: row.Rec.Phase, failed: row.Rec.Error != nil, metrics: map[string]results.MetricValue{},
		icl: append([]float64(nil), row.ICL...)}
	for _, m := range row.Metrics {
		r.metrics[m.Tag] = m
		r.order = append(r.order, m.Tag)
	}
	s.rows = append(s.rows, r)
}

func (s *rowSink) Flush() { s.flushes.Add(1) }

// Sinks get every record with its metrics in display units, in the order
// of the record schema, and the values agree with the summary.
func TestSinkRowsMatchSummary(t *testing.T) {
	rows := &rowSink{}
	sum := run(t, benchCfg(t), Setup{Sinks: []RecordSink{rows}}, results.RunInfo{}, scenario()...)
	if len(rows.rows) != 5 {
		t.Fatalf("%d rows", len(rows.rows))
	}
	schema := Schema(streamingChat)
	pos := map[string]int{}
	for i, c := range schema.Metrics {
		pos[c.Tag] = i
	}
	var ttfts []float64
	for _, r := range rows.rows {
		for i := 1; i < len(r.order); i++ {
			if pos[r.order[i-1]] >= pos[r.order[i]] {
				t.Errorf("row metrics out of schema order: %v", r.order)
			}
		}
		if r.failed {
			if _, ok := r.metrics["error_isl"]; !ok || len(r.metrics) != 2 { // error_isl + issue_delay
				t.Errorf("error record metrics %v", r.order)
			}
			continue
		}
		m := r.metrics["time_to_first_token"]
		if m.Unit != "ms" {
			t.Errorf("unit %q", m.Unit)
		}
		ttfts = append(ttfts, m.Value)
		if len(r.icl) == 0 || !schema.ICL || schema.ICLUnit != "ms" {
			t.Errorf("inter-chunk latencies %v (schema %v %q)", r.icl, schema.ICL, schema.ICLUnit)
		}
	}
	st := ExactStats(ttfts, 1)
	if want := metric(t, sum, "time_to_first_token").Stats; !near(st.Avg, want.Avg) || !near(st.P90, want.P90) {
		t.Errorf("row stats %+v differ from summary %+v", st, want)
	}
}

func TestNewPipelineErrors(t *testing.T) {
	cfg := benchCfg(t)
	if _, err := NewPipeline(cfg, nil, Setup{Endpoint: chatMeta, Streaming: true}); err == nil || !strings.Contains(err.Error(), "tokenizer") {
		t.Errorf("no tokenizer: %v", err)
	}
	cfg.SLOs = []config.SLO{{Metric: "time_to_first_token", Op: "<=", Threshold: 1}}
	if _, err := NewPipeline(cfg, nil, Setup{Endpoint: chatMeta, Tokenizer: words{}}); err == nil || !strings.Contains(err.Error(), "streaming") {
		t.Errorf("ttft slo without streaming: %v", err)
	}
	if err := Check(cfg, Setup{Endpoint: chatMeta, Tokenizer: words{}}); err == nil || !strings.Contains(err.Error(), "streaming") {
		t.Errorf("Check: ttft slo without streaming: %v", err)
	}
	if err := Check(cfg, Setup{Endpoint: chatMeta, Streaming: true, Tokenizer: words{}}); err != nil {
		t.Errorf("Check of a valid step: %v", err)
	}
}

func TestFinishTwice(t *testing.T) {
	p, err := NewPipeline(benchCfg(t), nil, Setup{Endpoint: chatMeta, Tokenizer: words{}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Finish(context.Background(), results.RunInfo{}); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Finish(context.Background(), results.RunInfo{}); err == nil {
		t.Error("second Finish accepted")
	}
	p.Add(req(sec, ms, 2*ms, 2)) // after Finish: dropped, no panic
}

// A sink that buffers is flushed while no record arrives, so that a killed
// run keeps what it measured.
func TestIdleSinksAreFlushed(t *testing.T) {
	rows := &rowSink{}
	p, err := NewPipeline(benchCfg(t), nil, Setup{Endpoint: chatMeta, EndpointType: "chat", Streaming: true, Tokenizer: words{},
		Sinks: []RecordSink{rows}})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range scenario() {
		p.Add(r)
	}
	deadline := time.Now().Add(5 * time.Second)
	for rows.flushes.Load() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("sink not flushed while idle")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if _, err := p.Finish(context.Background(), results.RunInfo{}); err != nil {
		t.Fatal(err)
	}
}

func TestCancelledRunIsSummarized(t *testing.T) {
	cfg := benchCfg(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // Ctrl-C: the run's context is done when Finish is called
	p, err := NewPipeline(cfg, nil, Setup{Endpoint: chatMeta, EndpointType: "chat", Streaming: true, Tokenizer: words{}})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range scenario()[:3] {
		p.Add(r)
	}
	sum, err := p.Finish(ctx, results.RunInfo{WasCancelled: true, ScheduledRate: 2, Dropped: 2})
	if err != nil {
		t.Fatal(err)
	}
	if !sum.Info.WasCancelled {
		t.Error("was_cancelled lost")
	}
	reasons := strings.Join(sum.Verdict.Reasons, "\n")
	if sum.Verdict.Valid || !strings.Contains(reasons, "cancelled") || !strings.Contains(reasons, "2 scheduled requests were never sent") {
		t.Errorf("verdict %+v", sum.Verdict)
	}
	if got := metric(t, sum, "request_count").Value; got != 2 {
		t.Errorf("request_count %v", got)
	}
}

// doneSink notes how many rows it had when RecordsDone came, and how often.
type doneSink struct {
	rowSink
	rowsAtDone, dones int
}

func (s *doneSink) RecordsDone() { s.rowsAtDone, s.dones = len(s.rows), s.dones+1 }

// Finish tells a sink that its last record came, once, after every row and
// before it returns the summary.
func TestFinishTellsSinksTheRecordsAreDone(t *testing.T) {
	s := &doneSink{}
	run(t, benchCfg(t), Setup{Sinks: []RecordSink{s}}, results.RunInfo{}, scenario()...)
	if s.dones != 1 || s.rowsAtDone != 5 || len(s.rows) != 5 {
		t.Errorf("RecordsDone called %d times, with %d of %d rows in", s.dones, s.rowsAtDone, len(s.rows))
	}
}
