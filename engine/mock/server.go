// Package mock is loadstar's embedded mock LLM server: one fasthttp server
// that speaks every API loadstar benchmarks (OpenAI chat, completions,
// embeddings, images and Responses; Anthropic Messages; Hugging Face TGI and
// TEI; Cohere and NIM rankings; Solido RAG) with realistic streaming shapes, a
// latency model (TTFT, ITL, prefill cost, jitter, load-dependent slowdown) and
// seeded fault injection. It mirrors AIPerf's reference mock server, so every
// user, test and benchmark can run with no GPU and no other process.
//
// Start it in-process:
//
//	srv, err := mock.Start(ctx, mock.Config{TTFT: 20 * time.Millisecond, ITL: 5 * time.Millisecond})
//	if err != nil { ... }
//	defer srv.Close()
//	url := srv.URL() // http://127.0.0.1:PORT
//
// docs/mock.md documents every knob, the latency formula and what each fault
// does on the wire. Each wire API is one entry of the apis table (apis.go):
// its path, request parser, stream frames, body and error shape.
package mock

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"
)

// Server is a running mock server.
type Server struct {
	cfg   Config
	paced bool
	ln    net.Listener
	http  *fasthttp.Server
	url   string

	done      chan struct{} // closed by Close: cuts every wait short
	stopped   chan struct{} // closed when Serve has returned
	closeOnce sync.Once
	closed    atomic.Bool // Close was called
	serveErr  error       // written before stopped is closed

	seq         atomic.Uint64 // arrival number of inference requests
	inflight    atomic.Int64
	maxInflight atomic.Int64
	stats       counters
	rec         *recorder
	engine      *engineModel
	gpus        *gpuModel

	modelsMu   sync.Mutex
	models     []string // Config.Models, then models seen in requests
	seenModels sync.Map // model name -> true, for models

	plans sync.Pool
}

// Start listens on cfg.Host:cfg.Port (after applying opts) and serves until
// ctx is done or Close is called. Port 0 picks a free port: read it back
// with URL.
func Start(ctx context.Context, cfg Config, opts ...Option) (*Server, error) {
	for _, o := range opts {
		o(&cfg)
	}
	cfg, err := cfg.Resolved()
	if err != nil {
		return nil, fmt.Errorf("mock server: %w", err)
	}
	addr := net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Port))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("mock server: listen on %s: %w", addr, err)
	}
	s := &Server{
		cfg:     cfg,
		paced:   cfg.paced(),
		ln:      ln,
		done:    make(chan struct{}),
		stopped: make(chan struct{}),
		models:  append([]string(nil), cfg.Models...),
	}
	for _, m := range cfg.Models {
		s.seenModels.Store(m, true)
	}
	if cfg.Record != nil {
		s.rec = &recorder{w: cfg.Record}
	}
	s.plans.New = func() any { return &plan{s: s} }
	s.engine = newEngineModel(cfg.MaxRunning, cfg.KVCacheTokens)
	s.gpus = newGPUModel(cfg.GPUs)
	s.http = &fasthttp.Server{
		Handler:            s.handle,
		Name:               "loadstar-mock",
		ReadBufferSize:     16 << 10,
		MaxRequestBodySize: 256 << 20,
		IdleTimeout:        5 * time.Minute,
		CloseOnShutdown:    true,
		Concurrency:        1 << 20,
		Logger:             fasthttpLogger{s},
	}
	s.url = "http://" + connectableAddr(ln.Addr())
	go func() {
		defer close(s.stopped)
		if err := s.http.Serve(ln); err != nil && !s.closed.Load() {
			s.serveErr = err
			s.cfg.Logger.Error("mock server stopped", "err", err)
		}
	}()
	go func() {
		select {
		case <-ctx.Done():
			s.Close()
		case <-s.done:
		}
	}()
	cfg.Logger.Debug("mock server listening", "url", s.url)
	return s, nil
}

// connectableAddr turns a listener address into one a client can dial: an
// unspecified address (0.0.0.0, ::) becomes the matching loopback address.
func connectableAddr(a net.Addr) string {
	ta, ok := a.(*net.TCPAddr)
	if !ok {
		return a.String()
	}
	ip := ta.IP
	if ip.IsUnspecified() {
		if ip.To4() != nil {
			ip = net.IPv4(127, 0, 0, 1)
		} else {
			ip = net.IPv6loopback
		}
	}
	return net.JoinHostPort(ip.String(), strconv.Itoa(ta.Port))
}

// URL is the base URL, e.g. http://127.0.0.1:43817 (no trailing slash).
func (s *Server) URL() string { return s.url }

// Addr is the host:port the server listens on.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Config is the effective configuration (defaults filled in).
func (s *Server) Config() Config { return s.cfg }

// Done is closed once the server has stopped serving.
func (s *Server) Done() <-chan struct{} { return s.stopped }

// Err is why the server stopped on its own; nil after Close.
func (s *Server) Err() error {
	if s.closed.Load() {
		return nil
	}
	select {
	case <-s.stopped:
		return s.serveErr
	default:
		return nil
	}
}

// closeGrace bounds how long Close waits for connections and streams.
const closeGrace = 3 * time.Second

// Close stops the server: stalls and latencies in progress are cut short,
// open streams end, and Close waits (up to 3 s) for them. It is safe to call
// more than once.
func (s *Server) Close() error {
	var err error
	s.closeOnce.Do(func() {
		s.closed.Store(true)
		close(s.done)
		ctx, cancel := context.WithTimeout(context.Background(), closeGrace)
		defer cancel()
		if e := s.http.ShutdownWithContext(ctx); e != nil && !errors.Is(e, context.DeadlineExceeded) {
			err = e
		}
		// Shutdown skips a listener Serve has not picked up yet: closing it
		// makes a late Serve return at once.
		s.ln.Close()
		for s.inflight.Load() > 0 && ctx.Err() == nil {
			time.Sleep(5 * time.Millisecond)
		}
		select {
		case <-s.stopped:
		case <-ctx.Done():
		}
	})
	return err
}

// Stats is a snapshot of what the server has done.
type Stats struct {
	// Requests counts received requests by path (every path, faults and
	// errors included); unknown paths are counted under "other".
	Requests map[string]int64
	// Statuses counts responses by HTTP status.
	Statuses map[int]int64
	// Faults counts injected faults by kind.
	Faults map[Fault]int64
	// InFlight is the number of inference requests being answered now;
	// MaxInFlight the largest it has been.
	InFlight, MaxInFlight int64
	// PromptTokens and CompletionTokens sum the usage the server reported.
	PromptTokens, CompletionTokens int64
}

// Stats returns a snapshot of the counters.
func (s *Server) Stats() Stats {
	st := Stats{
		Requests:         map[string]int64{},
		Statuses:         map[int]int64{},
		Faults:           map[Fault]int64{},
		InFlight:         s.inflight.Load(),
		MaxInFlight:      s.maxInflight.Load(),
		PromptTokens:     s.stats.promptTokens.Load(),
		CompletionTokens: s.stats.completionTokens.Load(),
	}
	for i := range s.stats.paths {
		if n := s.stats.paths[i].Load(); n > 0 {
			st.Requests[routes[i].path] = n
		}
	}
	for code := range s.stats.statuses {
		if n := s.stats.statuses[code].Load(); n > 0 {
			st.Statuses[code] = n
		}
	}
	for i, f := range Faults {
		if n := s.stats.faults[i].Load(); n > 0 {
			st.Faults[f] = n
		}
	}
	return st
}

type counters struct {
	paths            [numRoutes]atomic.Int64
	statuses         [600]atomic.Int64
	faults           [7]atomic.Int64
	promptTokens     atomic.Int64
	completionTokens atomic.Int64
}

func (c *counters) status(code int) {
	if code >= 0 && code < len(c.statuses) {
		c.statuses[code].Add(1)
	}
}

func (c *counters) fault(f Fault) {
	for i, k := range Faults {
		if k == f {
			c.faults[i].Add(1)
		}
	}
}

// route is one served path.
type route struct {
	path   string
	method string // "POST" or "GET"
	api    api    // for POST routes
}

// Route indices: route i < numAPIs serves api i (POST), then these.
const (
	routeModels = int(numAPIs) + iota
	routeHealth
	routeMetrics
	routeDCGM
	routeOther
	numRoutes
)

// routes are the served paths by route index, and routeIndex the index of
// each path; both are built from apis.
var (
	routes     [numRoutes]route
	routeIndex = map[string]int{}
)

func buildRoutes() {
	for a, w := range apis {
		routes[a] = route{w.path, "POST", api(a)}
	}
	routes[routeModels] = route{"/v1/models", "GET", 0}
	routes[routeHealth] = route{"/health", "GET", 0}
	routes[routeMetrics] = route{"/metrics", "GET", 0}
	routes[routeDCGM] = route{"/dcgm/metrics", "GET", 0}
	routes[routeOther] = route{"other", "", 0}
	for i, r := range routes[:routeOther] {
		routeIndex[r.path] = i
	}
}

func findRoute(path []byte) int {
	if i, ok := routeIndex[string(path)]; ok {
		return i
	}
	return routeOther
}

// handle is the fasthttp handler of every request.
func (s *Server) handle(ctx *fasthttp.RequestCtx) {
	start := time.Now()
	ri := findRoute(ctx.Path())
	s.stats.paths[ri].Add(1)
	if s.rec != nil {
		s.rec.record(ctx, s.cfg.Logger)
	}
	r := routes[ri]
	switch {
	case ri == routeOther:
		s.errorReply(ctx, apiChat, fasthttp.StatusNotFound, "not_found_error",
			fmt.Sprintf("path %s is not served by the loadstar mock", ctx.Path()))
	case string(ctx.Method()) != r.method && !(r.method == "GET" && ctx.IsHead()):
		ctx.Response.Header.Set("Allow", r.method)
		s.errorReply(ctx, r.api, fasthttp.StatusMethodNotAllowed, "invalid_request_error",
			fmt.Sprintf("method %s is not allowed on %s (expected %s)", ctx.Method(), r.path, r.method))
	case ri == routeModels:
		s.serveModels(ctx)
	case ri == routeHealth:
		ctx.SetContentType("application/json")
		ctx.SetBodyString(`{"status":"healthy"}`)
	case ri == routeMetrics:
		s.serveMetrics(ctx)
	case ri == routeDCGM && s.cfg.GPUs == 0:
		s.errorReply(ctx, apiChat, fasthttp.StatusNotFound, "not_found_error",
			"no GPU telemetry: start the mock with gpus (--gpus N) to serve /dcgm/metrics")
	case ri == routeDCGM:
		s.serveDCGM(ctx)
	default:
		s.serveInference(ctx, r.api, start)
		return // counts its own status
	}
	s.stats.status(ctx.Response.StatusCode())
}

// fasthttpLogger routes fasthttp's own messages to the configured logger.
type fasthttpLogger struct{ s *Server }

func (l fasthttpLogger) Printf(format string, args ...any) {
	l.s.cfg.Logger.Debug(fmt.Sprintf(format, args...))
}
