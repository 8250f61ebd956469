package servermetrics

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/loadstar/loadstar/engine/results"
)

// fakeVLLM serves a vLLM-like exposition of counters the test sets.
type fakeVLLM struct {
	mu      sync.Mutex
	gen     float64
	running float64
	ttft    []float64 // observations in seconds
	hits    atomic.Int64
}

func (f *fakeVLLM) set(gen, running float64, ttft ...float64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.gen, f.running = gen, running
	f.ttft = append(f.ttft, ttft...)
}

func (f *fakeVLLM) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	f.hits.Add(1)
	f.mu.Lock()
	defer f.mu.Unlock()
	var b strings.Builder
	b.WriteString("# HELP vllm:generation_tokens_total Number of generation tokens processed.\n# TYPE vllm:generation_tokens_total counter\n")
	fmt.Fprintf(&b, "vllm:generation_tokens_total{engine=\"0\",model_name=\"m\"} %g\n", f.gen)
	b.WriteString("# HELP vllm:num_requests_running Number of requests in model execution batches.\n# TYPE vllm:num_requests_running gauge\n")
	fmt.Fprintf(&b, "vllm:num_requests_running{engine=\"0\",model_name=\"m\"} %g\n", f.running)
	b.WriteString("# HELP vllm:time_to_first_token_seconds Histogram of time to first token in seconds.\n# TYPE vllm:time_to_first_token_seconds histogram\n")
	sum := 0.0
	for _, le := range []float64{0.01, 0.02, 0.04, 0.08} {
		n := 0
		for _, x := range f.ttft {
			if x <= le {
				n++
			}
		}
		fmt.Fprintf(&b, "vllm:time_to_first_token_seconds_bucket{engine=\"0\",le=\"%s\",model_name=\"m\"} %d\n", FormatLe(le), n)
	}
	for _, x := range f.ttft {
		sum += x
	}
	fmt.Fprintf(&b, "vllm:time_to_first_token_seconds_bucket{engine=\"0\",le=\"+Inf\",model_name=\"m\"} %d\n", len(f.ttft))
	fmt.Fprintf(&b, "vllm:time_to_first_token_seconds_count{engine=\"0\",model_name=\"m\"} %d\n", len(f.ttft))
	fmt.Fprintf(&b, "vllm:time_to_first_token_seconds_sum{engine=\"0\",model_name=\"m\"} %g\n", sum)
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	_, _ = w.Write([]byte(b.String()))
}

// recordingSink keeps what it is given.
type recordingSink struct {
	mu       sync.Mutex
	scrapes  []Scrape
	inWindow int
}

func (r *recordingSink) Scrape(s *Scrape) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.scrapes = append(r.scrapes, *s)
	if s.Frame >= 0 {
		r.inWindow++
	}
	return nil
}

// TestWindowIncreasesAreExact: what happens before BeginWindow and after
// EndWindow is left out, to the token, because both scrape at the boundary.
func TestWindowIncreasesAreExact(t *testing.T) {
	f := &fakeVLLM{}
	f.set(1000, 0)
	srv := httptest.NewServer(f)
	defer srv.Close()
	sink := &recordingSink{}
	c := Start(context.Background(), Config{Server: []string{srv.URL + "/metrics"}, Interval: 20 * time.Millisecond, Sinks: []Sink{sink}})
	time.Sleep(50 * time.Millisecond)
	f.set(1500, 2, 0.005) // warmup
	c.BeginWindow()
	f.set(1700, 5, 0.03, 0.03, 0.03)
	time.Sleep(80 * time.Millisecond)
	f.set(2000, 7, 0.015, 0.05)
	c.EndWindow()
	f.set(5000, 1, 0.07) // after profiling
	time.Sleep(50 * time.Millisecond)
	sm := c.Stop()

	if g := figure(t, sm, "generation_tokens"); g.Value != 500 {
		t.Errorf("generation tokens %v, want 500", g.Value)
	}
	run := figure(t, sm, "requests_running").Stats
	if run.Min != 5 || run.Max != 7 || run.Count < 2 {
		t.Errorf("running %+v", run)
	}
	ttft := figure(t, sm, "time_to_first_token").Stats
	if ttft.Count != 5 || !near(ttft.Sum, 1000*(0.09+0.065)) {
		t.Errorf("ttft %+v", ttft)
	}
	fam := sm.Family("vllm:time_to_first_token_seconds")
	if fam == nil || len(fam.Series) != 1 {
		t.Fatalf("family %+v", fam)
	}
	h := fam.Series[0].Histogram
	if h.Buckets[1].Count != 1 || h.Buckets[2].Count != 4 || h.Buckets[4].Count != 5 {
		t.Errorf("bucket increases %v", h.Buckets)
	}
	ep := sm.Endpoints[0]
	if !ep.Successful || ep.TotalFetches < 4 || ep.UniqueUpdates < 3 || ep.Disabled != "" || len(sm.Warnings) != 0 {
		t.Errorf("endpoint %+v warnings %v", ep, sm.Warnings)
	}
	if sink.inWindow < 2 || len(sink.scrapes) < ep.TotalFetches {
		t.Errorf("sink saw %d scrapes (%d in the window), fetches %d", len(sink.scrapes), sink.inWindow, ep.TotalFetches)
	}
}

func TestCounterResetAndTimeSlices(t *testing.T) {
	text := func(gen, running float64) string {
		return fmt.Sprintf("# TYPE vllm:generation_tokens_total counter\nvllm:generation_tokens_total %g\n# TYPE vllm:num_requests_running gauge\nvllm:num_requests_running %g\n", gen, running)
	}
	// Scrapes 1 s apart; the window starts 0.5 s after the first; slices of 2 s.
	sm := feed(t, results.EndpointServer, 2*time.Second, time.Second,
		text(100, 0), text(150, 1), text(300, 3), text(20, 5) /* server restart */, text(60, 5), text(100, 2))
	gen := sm.Family("vllm:generation_tokens").Series[0]
	if gen.Counter.Total != 50+150+20+40+40 {
		t.Fatalf("total over a reset %v", gen.Counter.Total)
	}
	// Window 0.5 s … 5.5 s: slices [0.5,2.5) [2.5,4.5) [4.5,5.5).
	if len(gen.Slices) != 3 || gen.Slices[0].Total != 200 || gen.Slices[1].Total != 60 || gen.Slices[2].Total != 40 {
		t.Fatalf("slices %+v", gen.Slices)
	}
	if gen.Slices[2].Complete || !gen.Slices[1].Complete || !gen.Counter.HasRates || gen.Counter.RateMin != 30 || gen.Counter.RateMax != 100 {
		t.Fatalf("rate spread %+v", gen.Counter)
	}
	run := sm.Family("vllm:num_requests_running").Series[0]
	if run.Slices[0].Min != 1 || run.Slices[0].Max != 3 || run.Slices[1].Avg != 5 || run.Slices[2].Avg != 2 {
		t.Fatalf("gauge slices %+v", run.Slices)
	}
	if f := figure(t, sm, "generation_tokens"); len(f.Slices) != 3 || f.Slices[0].Value != 200 {
		t.Fatalf("figure slices %+v", f.Slices)
	}
}

// closedURL is the URL of a port nothing listens on.
func closedURL(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u := "http://" + ln.Addr().String() + "/metrics"
	ln.Close()
	return u
}

func collectFor(t *testing.T, cfg Config, d time.Duration) (*results.ServerMetrics, time.Duration) {
	t.Helper()
	start := time.Now()
	c := Start(context.Background(), cfg)
	c.BeginWindow()
	time.Sleep(d)
	c.EndWindow()
	sm := c.Stop()
	return sm, time.Since(start) - d
}

func hasWarning(sm *results.ServerMetrics, parts ...string) bool {
	for _, w := range sm.Warnings {
		ok := true
		for _, p := range parts {
			ok = ok && strings.Contains(w, p)
		}
		if ok {
			return true
		}
	}
	return false
}

func TestEndpointThatIsDownIsOneWarning(t *testing.T) {
	u := closedURL(t)
	sm, overhead := collectFor(t, Config{Server: []string{u}, Interval: 10 * time.Millisecond}, 200*time.Millisecond)
	if len(sm.Warnings) != 1 || !hasWarning(sm, u, "connection refused", "no metrics from it") {
		t.Fatalf("warnings %q", sm.Warnings)
	}
	if e := sm.Endpoints[0]; e.Successful || e.Disabled == "" || len(e.Errors) != 1 || e.Errors[0].Count != 1 {
		t.Fatalf("endpoint %+v", e)
	}
	if overhead > time.Second {
		t.Errorf("a dead endpoint cost %v", overhead)
	}
	if len(sm.Families) != 0 || len(sm.Figures) != 0 {
		t.Error("figures from nothing")
	}
}

func TestNotPrometheusIsDroppedAfterOneRequest(t *testing.T) {
	for name, h := range map[string]http.HandlerFunc{
		"404": http.NotFound,
		"json": func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`[{"iter":1}]`))
		},
		"garbage": func(w http.ResponseWriter, _ *http.Request) {
			_, _ = w.Write([]byte("this is { not a metric\n"))
		},
	} {
		t.Run(name, func(t *testing.T) {
			var hits atomic.Int64
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				hits.Add(1)
				h(w, r)
			}))
			defer srv.Close()
			sm, _ := collectFor(t, Config{Server: []string{srv.URL + "/metrics"}, Interval: 10 * time.Millisecond}, 150*time.Millisecond)
			if len(sm.Warnings) != 1 || !hasWarning(sm, "no metrics from it") {
				t.Fatalf("warnings %q", sm.Warnings)
			}
			// The first request, and the TensorRT-LLM probe for JSON.
			if n := hits.Load(); n > 2 {
				t.Errorf("%d requests to an endpoint that is not Prometheus", n)
			}
		})
	}
}

func TestTensorRTLLMFallback(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/metrics", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`[]`))
	})
	trt := fixture(t, "trtllm.txt")
	mux.HandleFunc("/prometheus/metrics", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte(trt)) })
	srv := httptest.NewServer(mux)
	defer srv.Close()
	sm, _ := collectFor(t, Config{Server: []string{srv.URL + "/metrics"}, Interval: 10 * time.Millisecond}, 60*time.Millisecond)
	if sm.Endpoints[0].URL != srv.URL+"/prometheus/metrics" || !sm.Endpoints[0].Successful || !hasWarning(sm, "TensorRT-LLM") {
		t.Fatalf("endpoint %+v warnings %q", sm.Endpoints[0], sm.Warnings)
	}
	if sm.Family("trtllm_generation_tokens") == nil {
		t.Fatal("no metrics after the fallback")
	}
}

func TestSlowAndGarbledScrapesAreWarningsNotStalls(t *testing.T) {
	var n atomic.Int64
	body := fixture(t, "llamacpp.txt")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch k := n.Add(1); {
		case k <= 3:
			_, _ = w.Write([]byte(body))
		case k == 4:
			_, _ = w.Write([]byte("garbage{\n"))
		default:
			select { // slower than the timeout
			case <-time.After(400 * time.Millisecond):
			case <-r.Context().Done():
			}
		}
	}))
	defer srv.Close()
	sm, overhead := collectFor(t, Config{Server: []string{srv.URL}, Interval: 10 * time.Millisecond, Timeout: 50 * time.Millisecond}, 300*time.Millisecond)
	if !hasWarning(sm, "not Prometheus text format") || !hasWarning(sm, "no answer within 50ms") {
		t.Fatalf("warnings %q", sm.Warnings)
	}
	e := sm.Endpoints[0]
	if !e.Successful || e.Disabled != "" {
		t.Fatalf("an endpoint that worked was dropped: %+v", e)
	}
	// Backing off: with 10 ms between scrapes and 50 ms timeouts, 300 ms hold
	// far fewer than 30 attempts.
	if got := n.Load(); got > 12 {
		t.Errorf("%d attempts: no backoff", got)
	}
	if overhead > 2*time.Second {
		t.Errorf("slow endpoint held the run for %v", overhead)
	}
	if figure(t, sm, "requests_running").Server != "llamacpp" {
		t.Error("no figures from the good scrapes")
	}
}

func TestLimits(t *testing.T) {
	body := fixture(t, "vllm.txt")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte(body)) }))
	defer srv.Close()
	sm, _ := collectFor(t, Config{Server: []string{srv.URL}, Interval: 10 * time.Millisecond, MaxBodyBytes: 1024}, 50*time.Millisecond)
	if !hasWarning(sm, "larger than the 1024-byte limit") {
		t.Errorf("body cap: %q", sm.Warnings)
	}
	sm, _ = collectFor(t, Config{Server: []string{srv.URL}, Interval: 10 * time.Millisecond, MaxSeries: 5}, 50*time.Millisecond)
	if !hasWarning(sm, "more than 5 series") {
		t.Errorf("series cap: %q", sm.Warnings)
	}
	n := 0
	for _, f := range sm.Families {
		n += len(f.Series)
	}
	if n > 5 {
		t.Errorf("%d series kept over a cap of 5", n)
	}
}

func TestQuietEndpointsGiveNoWarning(t *testing.T) {
	u := closedURL(t)
	sm, _ := collectFor(t, Config{GPU: []string{u}, Quiet: []string{u}}, 20*time.Millisecond)
	if len(sm.Warnings) != 0 || sm.Endpoints[0].Kind != results.EndpointGPU {
		t.Fatalf("%q %+v", sm.Warnings, sm.Endpoints)
	}
}
