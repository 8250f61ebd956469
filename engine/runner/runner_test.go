package runner

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/loadstar/loadstar/engine/catalog"
	"github.com/loadstar/loadstar/engine/config"
	"github.com/loadstar/loadstar/engine/dataset"
	"github.com/loadstar/loadstar/engine/endpoint"
	"github.com/loadstar/loadstar/engine/errext"
	"github.com/loadstar/loadstar/engine/mock"
	"github.com/loadstar/loadstar/engine/ordered"
	"github.com/loadstar/loadstar/engine/plugin"
	"github.com/loadstar/loadstar/engine/record"
	"github.com/loadstar/loadstar/engine/results"
)

// tally is a record sink that keeps a copy of every record the runner
// handed over.
type tally struct {
	mu   sync.Mutex
	recs []record.Record // copies, phase by phase
}

func (t *tally) WriteRecord(row *results.RecordRow) {
	r := row.Rec
	c := *r
	c.Output = append([]byte(nil), r.Output...)
	c.Payload = append([]byte(nil), r.Payload...)
	c.Responses = append([]record.Response(nil), r.Responses...)
	if r.Error != nil {
		e := *r.Error
		c.Error = &e
	}
	t.mu.Lock()
	t.recs = append(t.recs, c)
	t.mu.Unlock()
}

// phase returns the records of phase ph in schedule order (sinks see them
// in processing order).
func (t *tally) phase(ph record.Phase) []record.Record {
	var out []record.Record
	for _, r := range t.recs {
		if r.Phase == ph {
			out = append(out, r)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].ScheduledNs < out[j].ScheduledNs })
	return out
}

// outcomes counts a phase's records: completed (valid), failed, cancelled.
func outcomes(recs []record.Record) (ok, failed, cancelled int) {
	for i := range recs {
		switch r := &recs[i]; {
		case r.Cancelled:
			cancelled++
		case r.Error != nil || !validish(r):
			failed++
		default:
			ok++
		}
	}
	return
}

// validish is Record.Valid for copies without Responses: an error-free
// record with output and a positive duration.
func validish(r *record.Record) bool {
	return r.Error == nil && r.EndNs > r.StartNs && len(r.Output) > 0
}

type harness struct {
	t     *testing.T
	reg   *plugin.Registry
	srv   *mock.Server
	tally *tally
}

func newHarness(t *testing.T, cfg mock.Config, opts ...mock.Option) *harness {
	t.Helper()
	reg, err := catalog.New()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	srv, err := mock.Start(ctx, cfg, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return &harness{t: t, reg: reg, srv: srv}
}

// bench returns a plan against the mock with a chat endpoint.
func (h *harness) bench(stream bool, timing *plugin.Spec, stop config.Stop) *config.Benchmark {
	cfg := config.Defaults()
	cfg.Endpoint = &plugin.Spec{Category: plugin.Endpoint, Name: "chat",
		Args: plugin.Args{"url": h.srv.URL(), "model": "mock-model", "streaming": stream}}
	cfg.Timing = timing
	cfg.Stop = stop
	cfg.Seed, cfg.SeedSet = 42, true
	cfg.Output.ArtifactDir = h.t.TempDir()
	return &cfg
}

func (h *harness) run(ctx context.Context, cfg *config.Benchmark, ds dataset.Dataset, opts ...Option) *results.Summary {
	h.t.Helper()
	h.tally = &tally{}
	opts = append([]Option{WithDataset(ds), WithRecordSink(h.tally)}, opts...)
	sum, err := Run(ctx, h.reg, cfg, nil, opts...)
	if err != nil {
		h.t.Fatal(err)
	}
	return sum
}

// checkBalance asserts sent = completed + failed + cancelled and returns them.
func (h *harness) checkBalance(sum *results.Summary) (ok, failed, cancelled int) {
	h.t.Helper()
	prof := h.tally.phase(record.Profiling)
	ok, failed, cancelled = outcomes(prof)
	if sum.Info.Issued != len(prof) || ok+failed+cancelled != len(prof) {
		h.t.Errorf("sent %d, records %d = %d completed + %d failed + %d cancelled", sum.Info.Issued, len(prof), ok, failed, cancelled)
	}
	return
}

func prompts(n, turns int) dataset.Dataset {
	convs := make([]dataset.Conversation, n)
	for i := range convs {
		convs[i].ID = fmt.Sprintf("conv-%d", i)
		for k := range turns {
			t := dataset.NewTurn()
			t.Texts = []dataset.Named{{Name: "text", Contents: []string{fmt.Sprintf("question %d of conversation %d", k, i)}}}
			t.MaxTokens = 8
			convs[i].Turns = append(convs[i].Turns, t)
		}
	}
	return dataset.NewSet(convs, dataset.Info{Sampler: dataset.Sequential, Source: "test"})
}

func spec(cat plugin.Category, name string, kv ...any) *plugin.Spec {
	a := plugin.Args{}
	for i := 0; i+1 < len(kv); i += 2 {
		a[kv[i].(string)] = kv[i+1]
	}
	return &plugin.Spec{Category: cat, Name: name, Args: a}
}

func concurrency(n int) *plugin.Spec {
	return spec(plugin.TimingStrategy, "concurrency", "concurrency", int64(n))
}

func fastMock() mock.Config {
	c := mock.DefaultConfig()
	c.Fast = true
	return c
}

// The registry is an explicit dependency: without one, Plan and Run say so
// instead of failing later on an unbound class.
func TestPlanNeedsRegistry(t *testing.T) {
	cfg := config.Defaults()
	cfg.Endpoint = spec(plugin.Endpoint, "chat", "url", "http://127.0.0.1:1", "model", "m")
	for name, call := range map[string]func() error{
		"Plan": func() error { _, err := Plan(context.Background(), nil, &cfg, nil); return err },
		"Run":  func() error { _, err := Run(context.Background(), nil, &cfg, nil); return err },
	} {
		if err := call(); err == nil || !strings.Contains(err.Error(), "no plugin registry") {
			t.Errorf("%s without a registry: %v", name, err)
		}
	}
	reg, err := catalog.New()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Plan(context.Background(), reg, &cfg, nil, WithDataset(prompts(2, 1))); err != nil {
		t.Errorf("Plan with catalog.New(): %v", err)
	}
}

func TestLoadTokenizer(t *testing.T) {
	for _, tc := range []struct {
		cfg        config.Tokenizer
		name, fail string
	}{
		{cfg: config.Tokenizer{}, name: "o200k_base"},
		{cfg: config.Tokenizer{Kind: "tiktoken"}, name: "o200k_base"},
		{cfg: config.Tokenizer{Kind: "tiktoken", Name: "cl100k_base"}, name: "cl100k_base"},
		{cfg: config.Tokenizer{Kind: "tiktoken", Name: "p99k"}, fail: "p99k"},
		{cfg: config.Tokenizer{Kind: "file"}, fail: "path is empty"},
		{cfg: config.Tokenizer{Kind: "file", Path: "testdata/missing.json"}, fail: "testdata/missing.json"},
		{cfg: config.Tokenizer{Kind: "sentencepiece"}, fail: `unknown kind "sentencepiece"`},
	} {
		tok, err := loadTokenizer(tc.cfg)
		switch {
		case tc.fail != "" && (err == nil || !strings.Contains(err.Error(), tc.fail)):
			t.Errorf("%+v: error %v, want one containing %q", tc.cfg, err, tc.fail)
		case tc.fail == "" && (err != nil || tok.Name() != tc.name):
			t.Errorf("%+v: %v, %v; want %s", tc.cfg, tok, err, tc.name)
		}
	}
}

func TestRunStopConditions(t *testing.T) {
	h := newHarness(t, fastMock())
	rate := func(r float64) *plugin.Spec { return spec(plugin.TimingStrategy, "request_rate", "rate", r) }
	cases := []struct {
		name   string
		timing *plugin.Spec
		stop   config.Stop
		turns  int
		want   func(n int) bool
	}{
		{"requests", concurrency(4), config.Stop{Requests: 40}, 1, func(n int) bool { return n == 40 }},
		{"sessions", concurrency(3), config.Stop{Sessions: 5}, 3, func(n int) bool { return n == 15 }},
		{"duration", rate(200), config.Stop{Duration: 500 * time.Millisecond}, 1, func(n int) bool { return n == 100 }},
		{"first of requests and duration", rate(50), config.Stop{Requests: 10, Duration: time.Minute}, 1, func(n int) bool { return n == 10 }},
		{"user-centric duration", spec(plugin.TimingStrategy, "user_centric_rate", "rate", 40.0, "users", int64(4)),
			config.Stop{Duration: 500 * time.Millisecond}, 2, func(n int) bool { return n == 20 }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h.t = t
			sum := h.run(context.Background(), h.bench(true, c.timing, c.stop), prompts(8, c.turns))
			ok, failed, cancelled := h.checkBalance(sum)
			if !c.want(sum.Info.Issued) || failed+cancelled != 0 {
				t.Errorf("issued %d (%d ok, %d failed, %d cancelled)", sum.Info.Issued, ok, failed, cancelled)
			}
			if sum.Info.WasCancelled || sum.Info.Seed != 42 {
				t.Errorf("info = %+v", sum.Info)
			}
		})
	}
}

func TestRunWarmupExcluded(t *testing.T) {
	h := newHarness(t, fastMock())
	cfg := h.bench(false, concurrency(2), config.Stop{Requests: 12})
	cfg.Warmup = &config.Warmup{Stop: config.Stop{Requests: 5}}
	sum := h.run(context.Background(), cfg, prompts(4, 1))
	warm := h.tally.phase(record.Warmup)
	if len(warm) != 5 || sum.Info.Issued != 12 {
		t.Fatalf("warmup %d records, profiling issued %d; want 5 and 12", len(warm), sum.Info.Issued)
	}
	if ok, failed, cancelled := outcomes(warm); ok != 5 || failed+cancelled != 0 {
		t.Errorf("warmup: %d completed, %d failed, %d cancelled", ok, failed, cancelled)
	}
	var warmEnd int64
	for _, r := range warm {
		warmEnd = max(warmEnd, r.EndNs)
	}
	for _, r := range h.tally.phase(record.Profiling) {
		if r.StartNs < warmEnd {
			t.Fatal("profiling started before warmup's requests ended")
		}
	}
	h.checkBalance(sum)
	if m := sum.Metric("request_count"); m == nil || m.Value != 12 {
		t.Errorf("request_count = %+v, want 12 (warmup excluded)", m)
	}
}

func TestRunMultiTurnHistoryCarriesAnswers(t *testing.T) {
	h := newHarness(t, fastMock())
	cfg := h.bench(true, concurrency(2), config.Stop{Sessions: 4})
	sum := h.run(context.Background(), cfg, prompts(4, 3))
	h.checkBalance(sum)
	bySession := map[int][]record.Record{}
	for _, r := range h.tally.phase(record.Profiling) {
		bySession[r.SessionNum] = append(bySession[r.SessionNum], r)
	}
	if len(bySession) != 4 {
		t.Fatalf("%d sessions, want 4", len(bySession))
	}
	for num, recs := range bySession {
		if len(recs) != 3 {
			t.Fatalf("session %d: %d turns", num, len(recs))
		}
		// Record sinks see records in processing order (several metrics
		// workers), not necessarily in the order they finished.
		sort.Slice(recs, func(i, j int) bool { return recs[i].TurnIndex < recs[j].TurnIndex })
		for _, r := range recs[1:] {
			if r.XCorrelationID != recs[0].XCorrelationID {
				t.Errorf("session %d: turns on different correlation ids", num)
			}
		}
		for k := 1; k < 3; k++ {
			prev, cur := recs[k-1], recs[k]
			if cur.TurnIndex != k || cur.StartNs < prev.EndNs {
				t.Errorf("session %d turn %d started before turn %d ended", num, k, k-1)
			}
			// The server's actual answer is in the next turn's history.
			if ans := string(prev.Output); ans == "" || !strings.Contains(string(cur.Payload), jsonText(ans)) {
				t.Errorf("session %d turn %d payload lacks the previous answer %q:\n%s", num, k, ans, cur.Payload)
			}
			if !strings.Contains(string(cur.Payload), `"role":"assistant"`) {
				t.Errorf("session %d turn %d payload has no assistant message", num, k)
			}
		}
	}
}

// jsonText is s as it appears inside a JSON string (the mock's words need no
// escaping beyond quotes).
func jsonText(s string) string { return strings.ReplaceAll(s, `"`, `\"`) }

func TestRunGraceCancelsInFlight(t *testing.T) {
	cfg := fastMock()
	cfg.Fast = false
	cfg.TTFT = 3 * time.Second // every answer outlasts the run
	h := newHarness(t, cfg)
	b := h.bench(true, concurrency(3), config.Stop{Duration: 200 * time.Millisecond})
	b.Grace = 200 * time.Millisecond
	start := time.Now()
	sum := h.run(context.Background(), b, prompts(3, 1))
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("run took %v; the grace period should have ended it after ~400ms", d)
	}
	_, _, cancelled := h.checkBalance(sum)
	if cancelled != 3 || sum.Info.Issued != 3 {
		t.Fatalf("issued %d, cancelled %d; want the 3 in-flight requests cancelled", sum.Info.Issued, cancelled)
	}
	for _, r := range h.tally.phase(record.Profiling) {
		if r.Error == nil || r.Error.Type != record.ErrGraceExpired || r.Error.Code != record.CodeCancelled {
			t.Errorf("record error %+v, want %s with code 499", r.Error, record.ErrGraceExpired)
		}
	}
}

func TestRunInterrupted(t *testing.T) {
	cfg := fastMock()
	cfg.Fast = false
	cfg.TTFT = 3 * time.Second
	h := newHarness(t, cfg)
	b := h.bench(true, spec(plugin.TimingStrategy, "request_rate", "rate", 20.0), config.Stop{Requests: 1000})
	b.Grace = 100 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(300*time.Millisecond, cancel)
	sum := h.run(ctx, b, prompts(3, 1))
	if !sum.Info.WasCancelled {
		t.Error("WasCancelled = false after ctx was cancelled")
	}
	_, _, cancelled := h.checkBalance(sum)
	if sum.Info.Issued < 3 || cancelled != sum.Info.Issued {
		t.Errorf("issued %d, cancelled %d: every in-flight request should be cancelled after the grace", sum.Info.Issued, cancelled)
	}
	if sum.Verdict.Valid {
		t.Error("an interrupted run is VALID")
	}
}

func TestRunCancellationPercent(t *testing.T) {
	cfg := fastMock()
	cfg.Fast = false
	cfg.TTFT = 200 * time.Millisecond
	h := newHarness(t, cfg)
	b := h.bench(true, concurrency(20), config.Stop{Requests: 60})
	b.Cancel = config.Cancellation{Percent: 50, Delay: 20 * time.Millisecond}
	sum := h.run(context.Background(), b, prompts(5, 1))
	ok, _, cancelled := h.checkBalance(sum)
	if cancelled < 15 || cancelled > 45 || ok+cancelled != 60 {
		t.Errorf("%d cancelled, %d ok of 60; want about half cancelled", cancelled, ok)
	}
	for _, r := range h.tally.phase(record.Profiling) {
		if r.Cancelled && (r.Error == nil || r.Error.Code != 499) {
			t.Errorf("cancelled record error %+v, want code 499", r.Error)
		}
	}
}

func TestRunURLRoundRobin(t *testing.T) {
	h := newHarness(t, fastMock())
	other, err := mock.Start(context.Background(), fastMock())
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	b := h.bench(false, concurrency(1), config.Stop{Sessions: 6})
	b.Endpoint.Args["url"] = []string{h.srv.URL(), other.URL()}
	sum := h.run(context.Background(), b, prompts(3, 2))
	h.checkBalance(sum)
	for _, r := range h.tally.phase(record.Profiling) {
		if r.URLIndex != r.SessionNum%2 {
			t.Errorf("session %d turn %d on URL %d, want %d", r.SessionNum, r.TurnIndex, r.URLIndex, r.SessionNum%2)
		}
	}
	if a, b := h.srv.Stats().Requests["/v1/chat/completions"], other.Stats().Requests["/v1/chat/completions"]; a != 6 || b != 6 {
		t.Errorf("servers got %d and %d requests, want 6 each", a, b)
	}
}

// faulty builds a dataset whose every turn asks the mock for fault f.
func faulty(f mock.Fault, n int) dataset.Dataset {
	ds := prompts(n, 1).(*dataset.Set)
	convs := make([]dataset.Conversation, ds.Len())
	for i := range convs {
		convs[i] = *ds.Conversation(i)
		convs[i].Turns = append([]dataset.Turn(nil), convs[i].Turns...)
		convs[i].Turns[0].ExtraHeaders = [][2]string{{mock.FaultHeader, string(f)}}
	}
	return dataset.NewSet(convs, dataset.Info{Sampler: dataset.Sequential})
}

func TestRunFaults(t *testing.T) {
	// A stalled answer outlasts the request timeout by far, and the timeout
	// leaves a loaded machine time to connect and send: the run still takes
	// under half of what waiting for the stalls would.
	const timeout = time.Second
	cfg := fastMock()
	cfg.StallFor = 4 * timeout
	h := newHarness(t, cfg)
	cases := []struct {
		name    string
		fault   mock.Fault
		stream  bool
		errType string // "" = any
		code    int    // 0 = any
		fails   bool
	}{
		{"500", mock.FaultServerError, true, "", 500, true},
		{"close mid-stream", mock.FaultCloseMidStream, true, record.ErrDisconnect, 0, true},
		{"stall past the timeout", mock.FaultStallBeforeHeaders, false, record.ErrTimeout, 0, true},
		{"stall mid-stream past the timeout", mock.FaultStallMidStream, true, record.ErrTimeout, 0, true},
		// A body that is not JSON parses to nothing: a 2xx answer without
		// content, which the metrics side records as such (wire.md §9).
		{"truncated JSON body", mock.FaultMalformedChunk, false, record.ErrNoContent, 0, true},
		// AIPerf's SSE rules skip an event whose data is not JSON: the
		// request completes without that chunk's text (wire.md §8).
		{"malformed SSE event", mock.FaultMalformedChunk, true, "", 0, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h.t = t
			b := h.bench(c.stream, concurrency(2), config.Stop{Requests: 4})
			b.Endpoint.Args["timeout"] = timeout
			start := time.Now()
			sum := h.run(context.Background(), b, faulty(c.fault, 2))
			// 4 requests, 2 at a time: 2 timeouts in a row when they fire,
			// 2 stalls (8 s) when they do not.
			if d := time.Since(start); d > 3*cfg.StallFor/2 {
				t.Errorf("run took %v: the timeout did not cut the stalls", d)
			}
			ok, failed, _ := h.checkBalance(sum)
			if !c.fails {
				if ok != 4 {
					t.Errorf("%d of 4 requests completed, want all", ok)
				}
				return
			}
			if failed != 4 {
				t.Fatalf("%d of 4 requests failed", failed)
			}
			for _, r := range h.tally.phase(record.Profiling) {
				e := r.Error
				switch {
				case e == nil && c.errType == record.ErrNoContent && len(r.Output) == 0:
				case e == nil:
					t.Errorf("record without error (output %q)", r.Output)
				case c.errType != "" && e.Type != c.errType:
					t.Errorf("error %+v, want type %s", e, c.errType)
				case c.code > 0 && e.Code != c.code:
					t.Errorf("error %+v, want code %d", e, c.code)
				case c.fault == mock.FaultServerError && (strings.HasPrefix(e.Message, "{") || e.Message == ""):
					// The API's error JSON is read (endpoint.ErrorFromStatus), not copied.
					t.Errorf("error message %q: want the message of the API's error body", e.Message)
				}
			}
			n := 0
			for _, g := range sum.Errors {
				if c.errType == "" || g.Details.Type == c.errType {
					n += g.Count
				}
			}
			if n != 4 {
				t.Errorf("the summary lists %d matching errors, want 4: %+v", n, sum.Errors)
			}
		})
	}
}

func TestRunLateRequestsMakeItInvalid(t *testing.T) {
	cfg := fastMock()
	cfg.Fast = false
	cfg.TTFT = 150 * time.Millisecond // the cap of 1 holds every request back
	h := newHarness(t, cfg)
	b := h.bench(false, spec(plugin.TimingStrategy, "request_rate", "rate", 20.0,
		"arrival", spec(plugin.ArrivalPattern, "constant"), "max_concurrency", int64(1)), config.Stop{Requests: 6})
	sum := h.run(context.Background(), b, prompts(3, 1))
	ok, _, _ := h.checkBalance(sum)
	if ok != 6 {
		t.Fatalf("%d of 6 completed: late requests must still be sent", ok)
	}
	v := sum.Verdict
	if v.Valid || v.Late < 4 || v.IssueDelay == nil || v.IssueDelay.Max < 300 {
		t.Errorf("verdict %+v (issue delay %+v); want INVALID with late requests", v, v.IssueDelay)
	}
	// Every request keeps its place on the 50 ms grid.
	recs := h.tally.phase(record.Profiling)
	first := recs[0].ScheduledNs
	for _, r := range recs {
		if off := time.Duration(r.ScheduledNs - first); off%(50*time.Millisecond) != 0 {
			t.Errorf("request scheduled at +%v, off the 50 ms grid", off)
		}
		if r.CreditNs < r.ScheduledNs {
			t.Errorf("released before its schedule")
		}
	}
	if sum.Info.ScheduledRate != 20 {
		t.Errorf("ScheduledRate = %v, want 20", sum.Info.ScheduledRate)
	}
}

func TestRunObserver(t *testing.T) {
	cfg := fastMock()
	cfg.Fast = false
	cfg.TTFT = 20 * time.Millisecond
	h := newHarness(t, cfg)
	// No lock: reports never overlap (Observer's contract), which
	// `go test -race` checks here (the step outlasts ProgressInterval).
	var seen []Progress
	obs := ObserverFunc(func(p Progress) { seen = append(seen, p) })
	b := h.bench(true, concurrency(2), config.Stop{Requests: 40})
	b.Warmup = &config.Warmup{Stop: config.Stop{Requests: 2}}
	if _, err := Run(context.Background(), h.reg, b, nil, WithDataset(prompts(4, 1)), WithObserver(obs)); err != nil {
		t.Fatal(err)
	}
	var phases []record.Phase
	var last Progress
	for _, p := range seen {
		if p.Done {
			phases = append(phases, p.Phase)
			last = p
		}
		if p.InFlight() < 0 || p.InFlight() > 2 {
			t.Errorf("progress with %d in flight (concurrency 2)", p.InFlight())
		}
	}
	if len(phases) != 2 || phases[0] != record.Warmup || phases[1] != record.Profiling {
		t.Fatalf("phase ends reported: %v, want warmup then profiling", phases)
	}
	if last.Sent != 40 || last.Completed != 40 || last.Plan.Requests != 40 || len(seen) < 4 {
		t.Errorf("last progress %+v after %d reports", last, len(seen))
	}
	if last.Metrics == nil || last.Metrics.Valid > 40 {
		t.Errorf("live metrics %+v", last.Metrics)
	}
}

// edgeObserver records phase edges with the mock's request counts then.
type edgeObserver struct {
	srv    func() int64 // inference requests the mock has received
	events []string
}

func (e *edgeObserver) Progress(Progress) {}
func (e *edgeObserver) PhaseStart(ph record.Phase) {
	e.events = append(e.events, fmt.Sprintf("start %s %d", ph, e.srv()))
}
func (e *edgeObserver) PhaseEnd(ph record.Phase) {
	e.events = append(e.events, fmt.Sprintf("end %s %d", ph, e.srv()))
}

// A PhaseObserver hears each phase start before its first request and end
// after its last one finished.
func TestRunPhaseObserver(t *testing.T) {
	h := newHarness(t, fastMock())
	b := h.bench(true, concurrency(2), config.Stop{Requests: 10})
	b.Warmup = &config.Warmup{Stop: config.Stop{Requests: 3}}
	obs := &edgeObserver{srv: func() int64 { return h.srv.Stats().Requests["/v1/chat/completions"] }}
	if _, err := Run(context.Background(), h.reg, b, nil, WithDataset(prompts(4, 1)), WithObserver(obs)); err != nil {
		t.Fatal(err)
	}
	want := "start warmup 0,end warmup 3,start profiling 3,end profiling 13"
	if got := strings.Join(obs.events, ","); got != want {
		t.Errorf("edges %s, want %s", got, want)
	}
}

func TestPlan(t *testing.T) {
	h := newHarness(t, fastMock())
	b := h.bench(true, spec(plugin.TimingStrategy, "request_rate", "rate", 10.0), config.Stop{Duration: time.Minute})
	b.Warmup = &config.Warmup{Stop: config.Stop{Requests: 5}, Timing: concurrency(2)}
	st, err := Plan(context.Background(), h.reg, b, nil, WithDataset(prompts(4, 1)))
	if err != nil {
		t.Fatal(err)
	}
	d := st.Describe()
	for _, want := range []string{
		"dataset    test: 4 conversations",
		"warmup     timing.concurrency(concurrency=2) — concurrency 2 (closed loop); 5 requests, until the requests stop",
		"profiling  timing.request_rate(rate=10) — 10 req/s, poisson arrivals; 600 requests, about 1m0s, until the duration stop",
		"seed       42",
	} {
		if !strings.Contains(d, want) {
			t.Errorf("Describe() lacks %q:\n%s", want, d)
		}
	}
	if h.srv.Stats().Requests["/v1/chat/completions"] != 0 {
		t.Error("Plan sent requests")
	}

	// Without a stop condition: AIPerf's default count, max(10, 2·concurrency).
	st, err = Plan(context.Background(), h.reg, h.bench(false, concurrency(8), config.Stop{}), nil, WithDataset(prompts(2, 1)))
	if err != nil || st.Stop.Requests != 16 || st.Profiling.Requests != 16 {
		t.Errorf("default stop: %+v, %v; want 16 requests", st.Stop, err)
	}

	// Errors name what is wrong and are configuration errors.
	bad := h.bench(false, spec(plugin.TimingStrategy, "request_rate", "rate", -1.0), config.Stop{Requests: 1})
	if _, err := Plan(context.Background(), h.reg, bad, nil, WithDataset(prompts(2, 1))); err == nil || !strings.Contains(err.Error(), "rate") || errext.ExitCodeOf(err) != errext.InvalidConfig {
		t.Errorf("rate=-1: err = %v (exit %v)", err, errext.ExitCodeOf(err))
	}
	fixed := h.bench(false, spec(plugin.TimingStrategy, "fixed_schedule"), config.Stop{})
	if _, err := Plan(context.Background(), h.reg, fixed, nil, WithDataset(prompts(2, 1))); err == nil || !strings.Contains(err.Error(), "timestamp") {
		t.Errorf("fixed schedule without timestamps: err = %v", err)
	}
}

func TestGCShareIsAShare(t *testing.T) {
	a := runtimeCPU{gc: 1, total: 10, idle: 2}
	for _, c := range []struct {
		b    runtimeCPU
		want float64
	}{
		{runtimeCPU{gc: 2, total: 20, idle: 2}, 0.1}, // 1 s of GC in 10 s of work
		{runtimeCPU{gc: 9, total: 14, idle: 2}, 1},   // idle-time marking beyond the work: capped, never 200 %
		{runtimeCPU{gc: 1, total: 10, idle: 2}, 0},   // nothing happened
		{runtimeCPU{gc: 3, total: 11, idle: 3.5}, 0}, // more idle than total growth: no work to share
	} {
		if got := gcShare(a, c.b); math.Abs(got-c.want) > 1e-9 {
			t.Errorf("gcShare(%+v) = %v, want %v", c.b, got, c.want)
		}
	}
	h := startMonitor().stop()
	if h.CPUs < 1 || h.GCShare < 0 || h.GCShare > 1 || h.CPUShare < 0 {
		t.Errorf("monitor: %+v", h)
	}
}

func TestStealShareFromProcStat(t *testing.T) {
	// Two readings of /proc/stat's first lines, 1 s apart on a 2-CPU
	// virtual machine: 200 ticks, 28 of them stolen (the columns after
	// steal are guest time, already inside user).
	a, ok := parseCPUTicks([]byte("cpu  1000 5 400 20000 10 0 20 300 0 0\ncpu0 500 2 200 10000 5 0 10 150 0 0\n"))
	if !ok || a.total != 21735 || a.steal != 300 {
		t.Fatalf("first reading %+v %v", a, ok)
	}
	b, ok := parseCPUTicks([]byte("cpu  1060 5 440 20070 10 0 22 328 50 0\n"))
	if !ok {
		t.Fatal("second reading refused")
	}
	if got := stealShare(a, b); math.Abs(got-0.14) > 1e-9 {
		t.Errorf("steal share %v, want 0.14", got)
	}
	if got := stealShare(a, a); got != 0 {
		t.Errorf("no time passed: steal share %v", got)
	}
	for _, bad := range []string{"", "intr 1 2 3\n", "cpu  1 2 3\n", "cpu  1 2 3 4 5 6 7 x\n", "cpu0 1 2 3 4 5 6 7 8\n"} {
		if got, ok := parseCPUTicks([]byte(bad)); ok {
			t.Errorf("parseCPUTicks(%q) = %+v, want refused", bad, got)
		}
	}
	if h := startMonitor().stop(); h.StealShare < 0 || h.StealShare > 1 {
		t.Errorf("monitor steal share %v", h.StealShare)
	}
}

func TestIDs(t *testing.T) {
	g := newIDGen()
	seen := map[string]bool{}
	re := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	for range 100_000 {
		id := g.next()
		if seen[id] || !re.MatchString(id) {
			t.Fatalf("id %q: duplicate or not a version 4 UUID", id)
		}
		seen[id] = true
	}
	if a, b := newIDGen(), newIDGen(); a.next() == b.next() {
		t.Error("two runs start with the same id")
	}
}

func BenchmarkIDs(b *testing.B) {
	g := newIDGen()
	for b.Loop() {
		_ = g.next()
	}
}

// BenchmarkRun measures a whole step per request against the in-process
// fast mock (closed loop, concurrency 32): the runner, transport, endpoint
// and metrics pipeline together, server included.
func BenchmarkRun(b *testing.B) {
	for _, stream := range []bool{false, true} {
		b.Run(fmt.Sprintf("stream=%v", stream), func(b *testing.B) {
			reg, err := catalog.New()
			if err != nil {
				b.Fatal(err)
			}
			srv, err := mock.Start(context.Background(), fastMock())
			if err != nil {
				b.Fatal(err)
			}
			defer srv.Close()
			cfg := config.Defaults()
			cfg.Endpoint = &plugin.Spec{Category: plugin.Endpoint, Name: "chat",
				Args: plugin.Args{"url": srv.URL(), "model": "m", "streaming": stream}}
			cfg.Timing = concurrency(32)
			cfg.Stop = config.Stop{Requests: max(b.N, 32)}
			cfg.Seed, cfg.SeedSet = 42, true
			cfg.Output.ExportLevel = "summary"
			cfg.Output.ArtifactDir = b.TempDir()
			b.ReportAllocs()
			b.ResetTimer()
			sum, err := Run(context.Background(), reg, &cfg, nil, WithDataset(prompts(100, 1)))
			if err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			if m := sum.Metric("request_throughput"); m != nil {
				b.ReportMetric(m.Value, "req/s")
			}
		})
	}
}

func TestRunTraceReplaysItsSchedule(t *testing.T) {
	h := newHarness(t, fastMock())
	ds := prompts(5, 1).(*dataset.Set)
	convs := make([]dataset.Conversation, ds.Len())
	for i := range convs {
		convs[i] = *ds.Conversation(i)
		convs[i].Turns = append([]dataset.Turn(nil), convs[i].Turns...)
		convs[i].Turns[0].TimestampMs, convs[i].Turns[0].HasTimestamp = float64(100*i), true
	}
	trace := dataset.NewSet(convs, dataset.Info{Sampler: dataset.Sequential, Timestamps: true})
	// No timing given: a timestamped trace is replayed at its timestamps.
	b := h.bench(false, nil, config.Stop{})
	sum := h.run(context.Background(), b, trace)
	h.checkBalance(sum)
	recs := h.tally.phase(record.Profiling)
	if len(recs) != 5 {
		t.Fatalf("%d requests, want the 5 trace entries", len(recs))
	}
	first := recs[0].ScheduledNs
	for _, r := range recs {
		var i int
		fmt.Sscanf(r.ConversationID, "conv-%d", &i)
		if off := time.Duration(r.ScheduledNs - first); off != time.Duration(i)*100*time.Millisecond {
			t.Errorf("%s scheduled at +%v, want +%v", r.ConversationID, off, time.Duration(i)*100*time.Millisecond)
		}
	}
	if sum.Info.ScheduledRate < 9.9 || sum.Info.ScheduledRate > 10.1 || sum.Info.Issued != 5 {
		t.Errorf("ScheduledRate = %v, want the trace's 10 req/s", sum.Info.ScheduledRate)
	}
}

// A request-rate series without a stop condition runs for its own length,
// and every segment's schedule holds exactly the arrivals its rate gives.
func TestRunRequestRateSeries(t *testing.T) {
	h := newHarness(t, fastMock())
	series := spec(plugin.TimingStrategy, "request_rate_series", "segments",
		[]any{[]any{"400ms", int64(50)}, []any{"400ms", int64(200)}, []any{"400ms", int64(100)}})
	sum := h.run(context.Background(), h.bench(true, series, config.Stop{}), prompts(8, 1))
	h.checkBalance(sum)
	recs := h.tally.phase(record.Profiling)
	if sum.Info.Issued != 140 || len(recs) != 140 {
		t.Fatalf("issued %d, %d records; want 20 + 80 + 40", sum.Info.Issued, len(recs))
	}
	origin := recs[0].ScheduledNs
	var counts [3]int
	for _, r := range recs {
		counts[min(int((r.ScheduledNs-origin)/int64(400*time.Millisecond)), 2)]++
	}
	if counts != [3]int{20, 80, 40} {
		t.Errorf("segments scheduled %v requests, want [20 80 40]", counts)
	}
	if sum.Info.ScheduledRate < 116.6 || sum.Info.ScheduledRate > 116.7 {
		t.Errorf("scheduled rate %v, want 140/1.2 s", sum.Info.ScheduledRate)
	}
}

// With a prefill cap of 1, a request starts only once the previous one got
// its first token; decoding overlaps; the wait shows as issue delay.
func TestRunPrefillConcurrency(t *testing.T) {
	mc := mock.DefaultConfig() // TTFT 20 ms, ITL 5 ms: 8 tokens decode for ~40 ms
	h := newHarness(t, mc)
	cfg := h.bench(true, concurrency(4), config.Stop{Requests: 12})
	cfg.Prefill = config.Prefill{Concurrency: 1}
	sum := h.run(context.Background(), cfg, prompts(4, 1))
	if ok, _, _ := h.checkBalance(sum); ok != 12 {
		t.Fatalf("%d of 12 requests completed", ok)
	}
	recs := h.tally.phase(record.Profiling)
	sort.Slice(recs, func(i, j int) bool { return recs[i].StartNs < recs[j].StartNs })
	firstToken := func(r *record.Record) int64 {
		for _, resp := range r.Responses {
			if resp.Kind.IsContent() {
				return resp.PerfNs
			}
		}
		t.Fatalf("request %s has no content", r.XRequestID)
		return 0
	}
	overlapped, held := 0, 0
	for i := range recs {
		if recs[i].CreditNs > recs[i].ScheduledNs {
			held++
		}
		if i == 0 {
			continue
		}
		prev := &recs[i-1]
		if ft := firstToken(prev); recs[i].StartNs < ft {
			t.Errorf("request %d started %v before request %d's first token: two in prefill", i, time.Duration(ft-recs[i].StartNs), i-1)
		}
		if recs[i].StartNs < prev.EndNs {
			overlapped++
		}
	}
	if overlapped == 0 {
		t.Error("no request started while the previous one was still decoding: the cap held whole requests")
	}
	if held < 6 {
		t.Errorf("only %d of 12 requests waited for the prefill slot (CreditNs > ScheduledNs); 4 sessions share 1", held)
	}
	// Each of the 4 sessions waits for the 3 others' prefills (~20 ms
	// each) in turn: the issue delay averages well above a millisecond.
	if m := sum.Metric("issue_delay"); m == nil || m.Stats == nil || m.Stats.Avg < 5 {
		t.Errorf("issue_delay %+v: the prefill wait does not show", m)
	}
}

func TestRunPrefillNeedsStreaming(t *testing.T) {
	h := newHarness(t, fastMock())
	cfg := h.bench(false, concurrency(2), config.Stop{Requests: 2})
	cfg.Prefill = config.Prefill{Concurrency: 1}
	_, err := Run(context.Background(), h.reg, cfg, nil, WithDataset(prompts(2, 1)))
	if err == nil || !strings.Contains(err.Error(), "prefill_concurrency needs a streamed answer") {
		t.Errorf("err = %v", err)
	}
}

// A multi-phase run: a warmup, a low-rate and a burst phase, each
// profiling phase with its own results block; the run's covers both.
func TestRunPhases(t *testing.T) {
	h := newHarness(t, fastMock())
	cfg := h.bench(true, nil, config.Stop{})
	rate := func(r float64) *plugin.Spec { return spec(plugin.TimingStrategy, "request_rate", "rate", r) }
	cfg.Phases = []config.Phase{
		{Name: "warm", Warmup: true, Timing: concurrency(2), Stop: config.Stop{Requests: 5}},
		{Name: "low", Timing: rate(50), Stop: config.Stop{Duration: 400 * time.Millisecond}},
		{Name: "burst", Timing: rate(200), Stop: config.Stop{Duration: 400 * time.Millisecond}},
	}
	sum := h.run(context.Background(), cfg, prompts(8, 1))
	if n := len(h.tally.phase(record.Warmup)); n != 5 {
		t.Errorf("%d warmup records, want 5", n)
	}
	prof := h.tally.phase(record.Profiling)
	byIndex := map[int]int{}
	for _, r := range prof {
		byIndex[r.PhaseIndex]++
	}
	if byIndex[1] != 20 || byIndex[2] != 80 || len(prof) != 100 {
		t.Errorf("records by phase %v (%d in all), want 20 of low and 80 of burst", byIndex, len(prof))
	}
	if m := sum.Metric("request_count"); m == nil || m.Value != 100 || sum.Info.Issued != 100 {
		t.Errorf("run: request_count %+v, issued %d; want 100 (warmup excluded)", m, sum.Info.Issued)
	}
	if len(sum.Phases) != 2 {
		t.Fatalf("%d phase results, want low and burst", len(sum.Phases))
	}
	for i, want := range []struct {
		name      string
		n         float64
		rate      float64
		minTputRS float64
	}{{"low", 20, 50, 40}, {"burst", 80, 200, 160}} {
		ph := sum.Phases[i]
		if ph.Name != want.name || ph.Info.ScheduledRate != want.rate || ph.Info.Issued != int(want.n) {
			t.Errorf("phase %d: %s at %v req/s, %d issued; want %s at %v, %v", i, ph.Name, ph.Info.ScheduledRate, ph.Info.Issued, want.name, want.rate, want.n)
		}
		ps := ph.Summary(sum)
		if m := ps.Metric("request_count"); m == nil || m.Value != want.n {
			t.Errorf("phase %s: request_count %+v, want %v", ph.Name, m, want.n)
		}
		if m := ps.Metric("request_throughput"); m == nil || m.Value < want.minTputRS {
			t.Errorf("phase %s: request_throughput %+v, want about %v req/s", ph.Name, m, want.rate)
		}
	}
	if sum.Phase("burst") != &sum.Phases[1] || sum.Phase("warm") != nil {
		t.Error("Summary.Phase finds profiling phases by name only")
	}
}

// A recorded body (raw_payload, inputs_json) is sent as it is: no history,
// model or stream flag added.
func TestRunSendsRawPayloadVerbatim(t *testing.T) {
	h := newHarness(t, fastMock())
	body := `{"model":"mock-model","messages":[{"role":"user","content":"hi there"}],"max_tokens":4,"temperature":0}`
	conv := dataset.Conversation{ID: "raw"}
	for range 2 {
		turn := dataset.NewTurn()
		turn.RawPayload = []byte(body)
		conv.Turns = append(conv.Turns, turn)
	}
	ds := dataset.NewSet([]dataset.Conversation{conv}, dataset.Info{Sampler: dataset.Sequential})
	sum := h.run(context.Background(), h.bench(true, concurrency(1), config.Stop{Requests: 2}), ds)
	ok, _, _ := h.checkBalance(sum)
	for _, r := range h.tally.phase(record.Profiling) {
		if string(r.Payload) != body {
			t.Errorf("sent %s, want the recorded body", r.Payload)
		}
	}
	if ok != 2 {
		t.Errorf("%d requests answered, want 2", ok)
	}
}

// A sigv4 endpoint's requests reach the server signed over what the
// transport sent: a server recomputing each signature from the request it
// received (Host, signed headers, path, query, body) agrees.
func TestRunSignsRequestsSigV4(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
	t.Setenv("AWS_SESSION_TOKEN", "FQoGZXIvYXdzEXAMPLE")
	var mu sync.Mutex
	verified, rejected := 0, []string{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		claimed := r.Header.Get("Authorization")
		i, j := strings.Index(claimed, "SignedHeaders="), strings.Index(claimed, ", Signature=")
		ok := i >= 0 && j > i
		var hdrs [][2]string
		if ok {
			signed := ";" + claimed[i+len("SignedHeaders="):j] + ";"
			for name, vs := range r.Header {
				if strings.Contains(signed, ";"+strings.ToLower(name)+";") && name != "X-Amz-Date" && name != "X-Amz-Security-Token" {
					hdrs = append(hdrs, [2]string{name, vs[0]})
				}
			}
			at, err := time.Parse("20060102T150405Z", r.Header.Get("X-Amz-Date"))
			v := &endpoint.SigV4{Region: "eu-west-1", Service: "execute-api", AccessKey: "AKIDEXAMPLE",
				SecretKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", SessionToken: plugin.Secret(r.Header.Get("X-Amz-Security-Token")),
				Now: func() time.Time { return at }}
			again, serr := v.Sign(r.Method, "http://"+r.Host+r.URL.RequestURI(), hdrs, body)
			ok = err == nil && serr == nil && again[len(again)-1][1] == claimed
		}
		mu.Lock()
		if ok {
			verified++
		} else {
			rejected = append(rejected, claimed)
		}
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"choices":[{"message":{"role":"assistant","content":"signed"}}],"usage":{"prompt_tokens":3,"completion_tokens":1}}`)
	}))
	defer srv.Close()
	h := newHarness(t, fastMock())
	cfg := h.bench(false, concurrency(2), config.Stop{Requests: 6})
	cfg.Endpoint.Args["url"] = srv.URL + "/prod/v1"
	cfg.Endpoint.Args["url_params"] = ordered.FromPairs("api-version", "2024 01")
	cfg.Endpoint.Args["sigv4"] = ordered.FromPairs("region", "eu-west-1", "service", "execute-api")
	sum := h.run(context.Background(), cfg, prompts(4, 1))
	ok, _, _ := h.checkBalance(sum)
	if verified != 6 || ok != 6 {
		t.Errorf("%d of 6 requests verified, %d answered; rejected: %q", verified, ok, rejected)
	}
}
