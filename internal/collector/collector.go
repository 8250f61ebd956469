// Package collector is the meeting point of a sharded benchmark's shards
// (docs/distributed.md): a small HTTP server that every shard of a
// Kubernetes Indexed Job reaches through a Service, and its client.
//
// The server does three things:
//
//   - it starts every step of the shards together: each shard announces
//     that it reached step k (POST /barrier) and polls until all of them
//     did; the server then hands out one start time a margin ahead, on its
//     own clock, and a run key from which shards derive the seed of steps
//     that set none;
//   - it serves its clock (GET /time) so that each shard can estimate its
//     offset the way NTP does (the probe with the shortest round trip);
//   - it keeps what each shard uploads when it is done (PUT /shards/{i},
//     a gzip'd tar of the shard's artifact directories), every attempt of
//     an index apart, and lists and serves them (GET /shards,
//     GET /shards/{i}/{pod}) until it is deleted — loadstar kube run and
//     loadstar kube results collect from here.
//
// A shard that comes back after its index was retried gets a fresh start
// (the others have long begun) and is told it is late, so the merge can say
// so. Nothing here judges results: the merge does.
package collector

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// DefaultMargin is how far ahead of the last shard's arrival a step
// starts: time for every shard to hear the start before it comes.
const DefaultMargin = 3 * time.Second

// Port is the collector's port in the generated manifests.
const Port = 8080

// Server is the collector. Create it with NewServer and serve Handler().
type Server struct {
	shards int
	dir    string
	margin time.Duration
	runKey uint64
	log    *slog.Logger
	now    func() time.Time

	mu      sync.Mutex
	steps   map[int]*barrier
	uploads []Upload
}

// barrier is one step's meeting: who arrived when, and the start once all
// did.
type barrier struct {
	arrived map[int]time.Time
	start   time.Time
}

// Upload is one shard attempt's results as the collector holds them.
type Upload struct {
	Shard    int       `json:"shard"`
	Pod      string    `json:"pod"`
	Bytes    int64     `json:"bytes"`
	SHA256   string    `json:"sha256"`
	Received time.Time `json:"received"`
}

// Status is what GET /shards answers.
type Status struct {
	Shards  int          `json:"shards"`
	RunKey  string       `json:"run_key"`
	Uploads []Upload     `json:"uploads"`
	Steps   []StepStatus `json:"steps"`
}

// StepStatus is one step's barrier.
type StepStatus struct {
	Step    int       `json:"step"`
	Arrived []int     `json:"arrived"`
	Start   time.Time `json:"start,omitzero"`
}

// BarrierReply is what POST /barrier answers.
type BarrierReply struct {
	RunKey string `json:"run_key"`
	Ready  bool   `json:"ready"`
	// StartUnixNano is the step's start on the collector's clock, set when
	// Ready.
	StartUnixNano int64 `json:"start_unix_nano,omitempty"`
	// Late is set for a shard that arrived after the step had started (a
	// retried index): its start is its own.
	Late    bool `json:"late,omitempty"`
	Arrived int  `json:"arrived"`
	Shards  int  `json:"shards"`
}

// Option configures a Server.
type Option func(*Server)

// WithMargin sets how far ahead of the last arrival a step starts.
func WithMargin(d time.Duration) Option { return func(s *Server) { s.margin = d } }

// WithLogger logs arrivals, starts and uploads to l.
func WithLogger(l *slog.Logger) Option { return func(s *Server) { s.log = l } }

// WithClock replaces the server's clock (tests).
func WithClock(now func() time.Time) Option { return func(s *Server) { s.now = now } }

// NewServer returns a collector for shards shards that keeps uploads in dir.
func NewServer(shards int, dir string, opts ...Option) (*Server, error) {
	if shards < 1 {
		return nil, fmt.Errorf("collector: shards must be >= 1, got %d", shards)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("collector: %w", err)
	}
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, fmt.Errorf("collector: run key: %w", err)
	}
	s := &Server{shards: shards, dir: dir, margin: DefaultMargin, runKey: binary.LittleEndian.Uint64(b[:]) | 1,
		log: slog.New(slog.DiscardHandler), now: time.Now, steps: map[int]*barrier{}}
	for _, o := range opts {
		o(s)
	}
	return s, nil
}

// Handler returns the collector's HTTP API.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok\n") })
	mux.HandleFunc("GET /time", s.serveTime)
	mux.HandleFunc("POST /barrier", s.serveBarrier)
	mux.HandleFunc("PUT /shards/{index}", s.serveUpload)
	mux.HandleFunc("GET /shards", s.serveStatus)
	mux.HandleFunc("GET /shards/{index}/{pod}", s.serveDownload)
	return mux
}

// RunKey is the key shards derive the seed of seedless steps from.
func (s *Server) RunKey() uint64 { return s.runKey }

func (s *Server) serveTime(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, map[string]int64{"unix_nano": s.now().UnixNano()})
}

// podName keeps uploads apart per attempt; it becomes a file name.
var podName = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9._-]{0,252}$`)

func (s *Server) shardArg(w http.ResponseWriter, text string) (int, bool) {
	i, err := strconv.Atoi(text)
	if err != nil || i < 0 || i >= s.shards {
		http.Error(w, fmt.Sprintf("shard %q: want an index in 0..%d", text, s.shards-1), http.StatusBadRequest)
		return 0, false
	}
	return i, true
}

func (s *Server) podArg(w http.ResponseWriter, text string) (string, bool) {
	if text == "" {
		text = "local"
	}
	if !podName.MatchString(text) {
		http.Error(w, fmt.Sprintf("pod %q: want a pod name (letters, digits, '.', '_', '-')", text), http.StatusBadRequest)
		return "", false
	}
	return text, true
}

func (s *Server) serveBarrier(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	shard, ok := s.shardArg(w, q.Get("shard"))
	if !ok {
		return
	}
	step, err := strconv.Atoi(q.Get("step"))
	if err != nil || step < 0 {
		http.Error(w, fmt.Sprintf("step %q: want a step number >= 0", q.Get("step")), http.StatusBadRequest)
		return
	}
	writeJSON(w, s.arrive(shard, step))
}

// arrive records that shard reached step and says whether the step starts.
func (s *Server) arrive(shard, step int) BarrierReply {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.steps[step]
	if b == nil {
		b = &barrier{arrived: map[int]time.Time{}}
		s.steps[step] = b
	}
	rep := BarrierReply{RunKey: strconv.FormatUint(s.runKey, 16), Shards: s.shards}
	if _, seen := b.arrived[shard]; !seen {
		if !b.start.IsZero() {
			// The step started without this shard (its index was
			// retried): it starts on its own, late.
			b.arrived[shard] = now
			rep.Ready, rep.Late, rep.StartUnixNano = true, true, now.Add(s.margin).UnixNano()
			rep.Arrived = len(b.arrived)
			s.log.Warn("a shard arrived after its step started", "shard", shard, "step", step,
				"late", now.Sub(b.start).Round(time.Millisecond))
			return rep
		}
		b.arrived[shard] = now
		s.log.Info("shard arrived", "shard", shard, "step", step, "arrived", len(b.arrived), "of", s.shards)
		if len(b.arrived) == s.shards {
			b.start = now.Add(s.margin)
			s.log.Info("step starts", "step", step, "at", b.start.Format(time.RFC3339Nano))
		}
	}
	rep.Arrived = len(b.arrived)
	if !b.start.IsZero() {
		rep.Ready, rep.StartUnixNano = true, b.start.UnixNano()
	}
	return rep
}

func (s *Server) uploadPath(shard int, pod string) string {
	return filepath.Join(s.dir, fmt.Sprintf("shard-%d", shard), pod+".tar.gz")
}

func (s *Server) serveUpload(w http.ResponseWriter, r *http.Request) {
	shard, ok := s.shardArg(w, r.PathValue("index"))
	if !ok {
		return
	}
	pod, ok := s.podArg(w, r.URL.Query().Get("pod"))
	if !ok {
		return
	}
	path := s.uploadPath(shard, pod)
	up, err := s.store(path, r.Body)
	if err != nil {
		s.log.Error("upload failed", "shard", shard, "pod", pod, "error", err)
		http.Error(w, "storing the upload: "+err.Error(), http.StatusInternalServerError)
		return
	}
	if want := r.Header.Get("X-Content-SHA256"); want != "" && want != up.SHA256 {
		_ = os.Remove(path)
		http.Error(w, fmt.Sprintf("upload damaged: sha256 %s, the shard sent %s", up.SHA256, want), http.StatusBadRequest)
		return
	}
	up.Shard, up.Pod = shard, pod
	s.mu.Lock()
	s.uploads = slicesDelete(s.uploads, shard, pod)
	s.uploads = append(s.uploads, up)
	s.mu.Unlock()
	s.log.Info("shard results received", "shard", shard, "pod", pod, "bytes", up.Bytes)
	writeJSON(w, up)
}

// slicesDelete drops an earlier upload of the same attempt (a retried
// PUT): the newest wins.
func slicesDelete(ups []Upload, shard int, pod string) []Upload {
	out := ups[:0]
	for _, u := range ups {
		if u.Shard != shard || u.Pod != pod {
			out = append(out, u)
		}
	}
	return out
}

// store writes body to path through a temporary file.
func (s *Server) store(path string, body io.Reader) (Upload, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return Upload{}, err
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".upload-*")
	if err != nil {
		return Upload{}, err
	}
	defer os.Remove(f.Name())
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, h), body)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return Upload{}, err
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return Upload{}, err
	}
	return Upload{Bytes: n, SHA256: hex.EncodeToString(h.Sum(nil)), Received: s.now()}, nil
}

func (s *Server) serveStatus(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, s.Status())
}

// Status returns the uploads and the steps' barriers.
func (s *Server) Status() Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := Status{Shards: s.shards, RunKey: strconv.FormatUint(s.runKey, 16), Uploads: append([]Upload{}, s.uploads...)}
	sort.Slice(st.Uploads, func(i, j int) bool {
		a, b := st.Uploads[i], st.Uploads[j]
		if a.Shard != b.Shard {
			return a.Shard < b.Shard
		}
		return a.Received.Before(b.Received)
	})
	for k, b := range s.steps {
		ss := StepStatus{Step: k, Start: b.start}
		for i := range b.arrived {
			ss.Arrived = append(ss.Arrived, i)
		}
		sort.Ints(ss.Arrived)
		st.Steps = append(st.Steps, ss)
	}
	sort.Slice(st.Steps, func(i, j int) bool { return st.Steps[i].Step < st.Steps[j].Step })
	return st
}

func (s *Server) serveDownload(w http.ResponseWriter, r *http.Request) {
	shard, ok := s.shardArg(w, r.PathValue("index"))
	if !ok {
		return
	}
	pod, ok := s.podArg(w, r.PathValue("pod"))
	if !ok {
		return
	}
	f, err := os.Open(s.uploadPath(shard, pod))
	if errors.Is(err, os.ErrNotExist) {
		http.Error(w, fmt.Sprintf("no upload from shard %d pod %s", shard, pod), http.StatusNotFound)
		return
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	defer f.Close()
	w.Header().Set("Content-Type", "application/gzip")
	_, _ = io.Copy(w, f)
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// parseRunKey reads the run key a barrier reply carries.
func parseRunKey(s string) (uint64, error) {
	k, err := strconv.ParseUint(strings.TrimSpace(s), 16, 64)
	if err != nil || k == 0 {
		return 0, fmt.Errorf("collector: bad run key %q", s)
	}
	return k, nil
}
