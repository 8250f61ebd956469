package servermetrics

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/loadstar/loadstar/engine/results"
)

// Defaults of a collection.
const (
	// DefaultInterval is AIPerf's scrape interval.
	DefaultInterval = 333 * time.Millisecond
	// DefaultTimeout bounds one scrape.
	DefaultTimeout = 2 * time.Second
	// DefaultMaxBodyBytes bounds one exposition.
	DefaultMaxBodyBytes = 16 << 20
	// DefaultMaxSeries bounds the label sets kept per endpoint.
	DefaultMaxSeries = 10000
	// boundaryWait bounds how long BeginWindow and EndWindow wait for their
	// scrapes: a slow endpoint must not hold the benchmark back.
	boundaryWait = 1500 * time.Millisecond
	// firstWait bounds how long Start waits for the first scrapes.
	firstWait = time.Second
)

var nan = math.NaN()

// Config is what a collection scrapes and how.
type Config struct {
	// Server are the inference servers' Prometheus endpoints.
	Server []string
	// GPU are DCGM exporter endpoints (GPU telemetry).
	GPU []string
	// Quiet are URLs among Server and GPU tried on the chance they exist
	// (AIPerf's default DCGM ports): their failures are logged at debug
	// level and give no warning.
	Quiet []string
	// Interval between scrapes of an endpoint; 0 means DefaultInterval.
	Interval time.Duration
	// Timeout of one scrape; 0 means DefaultTimeout.
	Timeout time.Duration
	// MaxBodyBytes caps an exposition; 0 means DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// MaxSeries caps the series (label sets) kept per endpoint; 0 means
	// DefaultMaxSeries.
	MaxSeries int
	// SliceDuration > 0 also summarises every time slice of the window.
	SliceDuration time.Duration
	// Sinks see every scrape (time-series files).
	Sinks []Sink
	// Logger receives the warnings as they happen; nil discards them.
	Logger *slog.Logger
	// Client is the HTTP client; nil means one of the collector's own (kept
	// apart from the benchmark's connections).
	Client *http.Client
}

func (c Config) withDefaults() Config {
	if c.Interval <= 0 {
		c.Interval = DefaultInterval
	}
	if c.Timeout <= 0 {
		c.Timeout = DefaultTimeout
	}
	if c.MaxBodyBytes <= 0 {
		c.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if c.MaxSeries <= 0 {
		c.MaxSeries = DefaultMaxSeries
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

func (c Config) boundaryTimeout() time.Duration { return min(c.Timeout, boundaryWait) }

// Sink receives every successful scrape on the scraping goroutine (keep it
// quick). An error stops the sink for the rest of the collection and
// becomes a warning.
type Sink interface {
	Scrape(s *Scrape) error
}

// Scrape is one successful scrape, as sinks see it.
type Scrape struct {
	Endpoint string
	Kind     string // results.EndpointServer or EndpointGPU
	// SentNs, FirstByteNs and DoneNs are wall-clock Unix ns.
	SentNs, FirstByteNs, DoneNs int64
	Snapshot                    *Snapshot
	// Frame is the window frame index, -1 outside the profiling window.
	Frame int
}

// Collector scrapes endpoints on their own goroutines, off the request
// path, while a step runs:
//
//	c := servermetrics.Start(ctx, servermetrics.Config{Server: []string{"http://127.0.0.1:8000/metrics"}})
//	c.BeginWindow() // profiling starts
//	...
//	c.EndWindow()   // profiling ended, requests finished
//	sm := c.Stop()  // *results.ServerMetrics
//
// A failing, slow or garbled endpoint is a warning in the results; the
// collector never blocks or slows the load.
type Collector struct {
	cfg    Config
	client *http.Client
	eps    []*endpoint
	cancel context.CancelFunc
	wg     sync.WaitGroup

	start                 time.Time
	windowStart, windowNs atomic.Int64 // Unix ns; windowNs = end
	stopOnce              sync.Once
	result                *results.ServerMetrics

	mu       sync.Mutex
	warnings []string
	sinks    []Sink
}

// Start begins scraping every endpoint at once (the first scrape is the
// reference of the counters) and then every Interval. It returns once every
// endpoint has answered or failed its first scrape, or after a second.
func Start(ctx context.Context, cfg Config) *Collector {
	cfg = cfg.withDefaults()
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	c := &Collector{cfg: cfg, cancel: cancel, start: time.Now(), sinks: append([]Sink(nil), cfg.Sinks...)}
	c.client = cfg.Client
	if c.client == nil {
		c.client = &http.Client{Transport: &http.Transport{
			Proxy:               nil, // the servers are reached directly, as the benchmark reaches them
			DialContext:         (&net.Dialer{Timeout: cfg.Timeout}).DialContext,
			MaxIdleConnsPerHost: 2,
			IdleConnTimeout:     30 * time.Second,
		}}
	}
	quiet := map[string]bool{}
	for _, u := range cfg.Quiet {
		quiet[u] = true
	}
	seen := map[string]bool{}
	add := func(urls []string, kind string) {
		for _, u := range urls {
			if seen[u] {
				continue
			}
			seen[u] = true
			c.eps = append(c.eps, newEndpoint(c, u, kind, quiet[u]))
		}
	}
	add(cfg.Server, results.EndpointServer)
	add(cfg.GPU, results.EndpointGPU)
	for _, e := range c.eps {
		c.wg.Add(1)
		go func() {
			defer c.wg.Done()
			e.loop(ctx)
		}()
	}
	// The first scrapes are the reference: wait for them, but not for long
	// (a dead endpoint fails at once, a slow one is left behind).
	deadline := time.NewTimer(firstWait)
	defer deadline.Stop()
	for _, e := range c.eps {
		select {
		case <-e.first:
		case <-deadline.C:
			return c
		}
	}
	return c
}

// BeginWindow marks the start of the profiling phase: every endpoint is
// scraped once more (the reference of the counters, waiting at most 1.5 s
// for a slow one) and what follows is measured.
func (c *Collector) BeginWindow() {
	// The window starts before the boundary scrapes: an endpoint in the
	// window may scrape again before a slow one has answered.
	c.windowStart.Store(time.Now().UnixNano())
	c.toAll(inWindow)
}

// EndWindow marks the end of the profiling phase: every endpoint is scraped
// a last time, inside the window, and later scrapes are ignored.
func (c *Collector) EndWindow() {
	if c.windowStart.Load() == 0 {
		c.BeginWindow()
	}
	c.toAll(afterWindow)
	c.windowNs.Store(time.Now().UnixNano())
}

// toAll asks every endpoint to scrape now and move to phase to, waiting at
// most boundaryWait: an endpoint still busy then moves without its scrape.
func (c *Collector) toAll(to phase) {
	ctx, cancel := context.WithTimeout(context.Background(), boundaryWait+100*time.Millisecond)
	defer cancel()
	var wg sync.WaitGroup
	for _, e := range c.eps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if !e.healthy() { // nothing to measure from: no boundary scrape
				e.mu.Lock()
				e.enter(to)
				e.mu.Unlock()
				return
			}
			r := request{to: to, done: make(chan struct{})}
			select {
			case e.reqs <- r:
				select {
				case <-r.done:
				case <-ctx.Done():
					c.warnf("server metrics: %s: the %s scrape took longer than %v", e.url, phaseName(to), boundaryWait)
				}
			case <-ctx.Done():
				c.warnf("server metrics: %s: busy; no %s scrape", e.url, phaseName(to))
				e.mu.Lock()
				e.enter(to)
				e.mu.Unlock()
			}
		}()
	}
	wg.Wait()
}

func phaseName(p phase) string {
	if p == inWindow {
		return "start-of-profiling"
	}
	return "end-of-profiling"
}

func (c *Collector) windowStartNs() int64 { return c.windowStart.Load() }

// Stop ends the collection and returns what it found. It is safe to call
// more than once (later calls return the same result).
func (c *Collector) Stop() *results.ServerMetrics {
	c.stopOnce.Do(func() {
		if c.windowNs.Load() == 0 {
			c.EndWindow()
		}
		c.cancel()
		c.wg.Wait()
		c.result = c.summarize()
	})
	return c.result
}

// publish hands a scrape to the sinks.
func (c *Collector) publish(e *endpoint, f fetched, snap *Snapshot, frame int) {
	c.mu.Lock()
	sinks := c.sinks
	c.mu.Unlock()
	if len(sinks) == 0 {
		return
	}
	s := &Scrape{Endpoint: e.url, Kind: e.kind, SentNs: f.sent.UnixNano(), FirstByteNs: f.firstByte.UnixNano(),
		DoneNs: f.done.UnixNano(), Snapshot: snap, Frame: frame}
	for _, k := range sinks {
		if err := k.Scrape(s); err != nil {
			c.dropSink(k, err)
		}
	}
}

func (c *Collector) dropSink(k Sink, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, x := range c.sinks {
		if x == k {
			c.sinks = append(c.sinks[:i:i], c.sinks[i+1:]...)
			c.warnings = append(c.warnings, fmt.Sprintf("server metrics: a time-series file stopped: %v", err))
			return
		}
	}
}

// warn records a warning about an endpoint (logged at once).
func (c *Collector) warn(e *endpoint, msg string) {
	full := fmt.Sprintf("server metrics: %s: %s", e.url, msg)
	if e.quiet {
		c.cfg.Logger.Debug(full)
		return
	}
	c.cfg.Logger.Warn(full)
}

// note logs information about an endpoint.
func (c *Collector) note(msg string) {
	c.cfg.Logger.Info("server metrics: " + msg)
}

func (c *Collector) warnf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	c.cfg.Logger.Warn(msg)
	c.mu.Lock()
	c.warnings = append(c.warnings, msg)
	c.mu.Unlock()
}

// ErrNoEndpoints is returned by Validate for a collection with nothing to scrape.
var ErrNoEndpoints = errors.New("server metrics: no endpoint to scrape")
