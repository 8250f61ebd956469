package servermetrics

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"sort"
	"sync"
	"time"

	"github.com/loadstar/loadstar/engine/results"
)

// maxErrorKinds bounds the distinct error messages kept per endpoint.
const maxErrorKinds = 16

// maxBackoff caps the wait between attempts at a failing endpoint.
const maxBackoff = 10 * time.Second

var hashSeed = maphash.MakeSeed()

// request asks an endpoint's goroutine to scrape now and move to a phase.
type request struct {
	to   phase
	done chan struct{}
}

// endpoint scrapes one URL on its own goroutine. Everything below mu is
// written by that goroutine and read by Collector.Stop once it has ended.
type endpoint struct {
	c     *Collector
	url   string
	kind  string
	quiet bool // failures are logged at debug level (default GPU ports)
	reqs  chan request
	first chan struct{} // closed once the first scrape was attempted

	mu sync.Mutex

	phase       phase
	everScraped bool // a scrape parsed before the window opened
	fetches     int
	updates     int
	firstFetch  int64
	lastFetch   int64
	firstUpdate int64
	lastUpdate  int64
	latency     time.Duration
	updateTimes []int64
	errs        []results.ServerError
	failStreak  int
	disabled    string
	switched    string // TensorRT-LLM fallback note
	succeeded   bool
	lastHash    uint64
	lastSnap    *Snapshot

	families map[string]*family
	nSeries  int
	capHit   bool

	frames []int64 // wall ns of each window frame
	slice  int     // time slice of the latest window frame
	buf    bytes.Buffer
}

func newEndpoint(c *Collector, u, kind string, quiet bool) *endpoint {
	return &endpoint{c: c, url: u, kind: kind, quiet: quiet, reqs: make(chan request), first: make(chan struct{}),
		families: map[string]*family{}}
}

// loop scrapes every interval (longer after failures) and serves phase
// requests until ctx ends.
func (e *endpoint) loop(ctx context.Context) {
	timer := time.NewTimer(0) // the first scrape at once: it is the reference
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case r := <-e.reqs:
			e.scrape(ctx, e.c.cfg.boundaryTimeout(), r.to)
			close(r.done)
		case <-timer.C:
			e.scrape(ctx, e.c.cfg.Timeout, 0xff)
			select {
			case <-e.first:
			default:
				close(e.first)
			}
			timer.Reset(e.nextWait())
		}
	}
}

// nextWait is the interval, doubled for every failure in a row.
func (e *endpoint) nextWait() time.Duration {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.disabled != "" {
		return 24 * time.Hour
	}
	d := e.c.cfg.Interval
	for i := 0; i < e.failStreak && d < maxBackoff; i++ {
		d *= 2
	}
	return min(d, maxBackoff)
}

// scrape fetches and applies one exposition; to (0xff = stay) is the phase
// the endpoint moves to once it is applied (or attempted).
func (e *endpoint) scrape(ctx context.Context, timeout time.Duration, to phase) {
	defer func() {
		if to != 0xff {
			e.mu.Lock()
			e.enter(to)
			e.mu.Unlock()
		}
	}()
	e.mu.Lock()
	disabled := e.disabled != ""
	e.mu.Unlock()
	if disabled {
		return
	}
	f, err := fetch(ctx, e.c.client, e.url, timeout, e.c.cfg.MaxBodyBytes, &e.buf)
	if ctx.Err() != nil {
		if err != nil && !e.healthy() { // the collection ended first: say so once
			e.fail(fmt.Errorf("no answer before the collection ended (%v)", time.Since(f.sent).Round(time.Millisecond)))
		}
		return
	}
	var np *notPrometheus
	if errors.As(err, &np) && e.tryFallback(ctx, f, timeout) {
		f, err = fetch(ctx, e.c.client, e.url, timeout, e.c.cfg.MaxBodyBytes, &e.buf)
	}
	if err != nil {
		e.fail(err)
		return
	}
	h := maphash.Bytes(hashSeed, f.body)
	var snap *Snapshot
	e.mu.Lock()
	changed := e.lastSnap == nil || h != e.lastHash
	if !changed {
		snap = e.lastSnap
	}
	e.mu.Unlock()
	if changed {
		if snap, err = Parse(f.body); err != nil {
			e.fail(err)
			return
		}
	}
	e.mu.Lock()
	e.record(f, changed, h, snap)
	fr := e.apply(snap, f.done.UnixNano())
	e.mu.Unlock()
	e.c.publish(e, f, snap, fr)
}

// tryFallback switches a TensorRT-LLM /metrics that answered JSON to its
// /prometheus/metrics, once, when that path serves Prometheus.
func (e *endpoint) tryFallback(ctx context.Context, f fetched, timeout time.Duration) bool {
	e.mu.Lock()
	tried := e.switched != "" || e.succeeded
	e.mu.Unlock()
	alt, ok := trtllmFallback(e.url)
	if tried || !ok || f.contentType == "" {
		return false
	}
	var b bytes.Buffer
	g, err := fetch(ctx, e.c.client, alt, timeout, e.c.cfg.MaxBodyBytes, &b)
	if err != nil {
		return false
	}
	if _, err := Parse(g.body); err != nil {
		return false
	}
	e.mu.Lock()
	e.switched = fmt.Sprintf("%s answered JSON; scraping %s instead (TensorRT-LLM)", e.url, alt)
	e.url = alt
	e.mu.Unlock()
	e.c.note(e.switched)
	return true
}

// fail records a failed scrape. An endpoint that never answered with
// metrics, or answered with something that is not metrics, is dropped with
// one warning: a server without /metrics costs one request, not one every
// 333 ms.
func (e *endpoint) fail(err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	msg := err.Error()
	first := e.countError(msg)
	e.failStreak++
	var np *notPrometheus
	switch {
	case errors.As(err, &np) || !e.succeeded:
		e.disabled = msg
		e.c.warn(e, fmt.Sprintf("%s; no metrics from it in this run", msg))
	case first:
		e.c.warn(e, msg+" (scraping goes on, backing off)")
	}
}

// countError counts msg and reports whether it is new.
func (e *endpoint) countError(msg string) bool {
	for i := range e.errs {
		if e.errs[i].Message == msg {
			e.errs[i].Count++
			return false
		}
	}
	if len(e.errs) < maxErrorKinds {
		e.errs = append(e.errs, results.ServerError{Message: msg, Count: 1})
		return true
	}
	e.errs[len(e.errs)-1].Count++
	return false
}

// record keeps the fetch statistics of a successful scrape.
func (e *endpoint) record(f fetched, changed bool, h uint64, snap *Snapshot) {
	now := f.done.UnixNano()
	e.fetches++
	if e.firstFetch == 0 {
		e.firstFetch = now
	}
	e.lastFetch = now
	e.latency += f.done.Sub(f.sent)
	e.failStreak = 0
	e.succeeded = true
	if changed {
		e.updates++
		if e.firstUpdate == 0 {
			e.firstUpdate = now
		}
		e.lastUpdate = now
		e.updateTimes = append(e.updateTimes, now)
		e.lastHash, e.lastSnap = h, snap
	}
}

// healthy reports whether the endpoint answered with metrics and is still
// scraped: only those are waited for at the window's edges.
func (e *endpoint) healthy() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.succeeded && e.disabled == ""
}

// enter moves the endpoint to phase to.
func (e *endpoint) enter(to phase) {
	if to <= e.phase {
		return
	}
	e.phase = to
}

// apply folds a scrape taken at t (wall ns) into the series. It returns the
// window frame index, or -1 outside the window.
func (e *endpoint) apply(snap *Snapshot, t int64) int {
	frame := -1
	if e.phase == inWindow {
		frame = len(e.frames)
		e.frames = append(e.frames, t)
		e.markSlices(t)
	} else if e.phase == beforeWindow {
		e.everScraped = true
	}
	if e.phase == afterWindow {
		return -1
	}
	for i := range snap.Families {
		pf := &snap.Families[i]
		fam := e.families[pf.Name]
		if fam == nil {
			fam = &family{name: pf.Name, exposed: pf.Exposed, typ: pf.Type, help: pf.Help, series: map[string]*series{}}
			e.families[pf.Name] = fam
		}
		if fam.typ != pf.Type {
			continue // a family changing type mid-run keeps its first type
		}
		for j := range pf.Series {
			ps := &pf.Series[j]
			key := ps.Key()
			s := fam.series[key]
			if s == nil {
				if e.nSeries >= e.c.cfg.MaxSeries {
					if !e.capHit {
						e.capHit = true
						e.c.warn(e, fmt.Sprintf("more than %d series; further series are not kept", e.c.cfg.MaxSeries))
					}
					continue
				}
				s = newSeries(ps.Labels)
				for len(s.bounds) < e.slice { // it had nothing in the slices before
					s.markSlice()
				}
				fam.series[key] = s
				fam.order = append(fam.order, s)
				e.nSeries++
			}
			s.apply(fam.typ, ps, frame, e.phase, e.everScraped && e.phase == inWindow)
		}
	}
	return frame
}

// markSlices records slice-start marks when frame time t enters a new time
// slice of the window.
func (e *endpoint) markSlices(t int64) {
	d := e.c.cfg.SliceDuration
	if d <= 0 {
		return
	}
	start := e.c.windowStartNs()
	if start == 0 || t < start {
		return
	}
	k := int((t - start) / int64(d))
	for e.slice < k {
		e.slice++
		for _, fam := range e.families {
			for _, s := range fam.order {
				for len(s.bounds) < e.slice {
					s.markSlice()
				}
			}
		}
	}
}

// info is the endpoint's collection summary (AIPerf's endpoint_info).
func (e *endpoint) info() results.ServerEndpoint {
	info := results.ServerEndpoint{URL: e.url, Kind: e.kind, Successful: e.succeeded,
		TotalFetches: e.fetches, UniqueUpdates: e.updates,
		FirstFetchNs: e.firstFetch, LastFetchNs: e.lastFetch, FirstUpdateNs: e.firstUpdate, LastUpdateNs: e.lastUpdate,
		Errors: e.errs, Disabled: e.disabled}
	if e.fetches > 0 {
		info.AvgFetchLatencyMs = float64(e.latency) / float64(e.fetches) / 1e6
	}
	info.AvgUpdateIntervalMs, info.MedianUpdateIntervalMs = intervals(e.updateTimes)
	return info
}

// intervals returns the mean and median gaps between update times (ms),
// NaN with fewer than two.
func intervals(ts []int64) (avg, median float64) {
	if len(ts) < 2 {
		return nan, nan
	}
	gaps := make([]float64, len(ts)-1)
	for i := 1; i < len(ts); i++ {
		gaps[i-1] = float64(ts[i]-ts[i-1]) / 1e6
	}
	avg = float64(ts[len(ts)-1]-ts[0]) / 1e6 / float64(len(gaps))
	sort.Float64s(gaps)
	n := len(gaps)
	if n%2 == 1 {
		return avg, gaps[n/2]
	}
	return avg, (gaps[n/2-1] + gaps[n/2]) / 2
}
