package timing

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/loadstar/loadstar/engine/clock"
	"github.com/loadstar/loadstar/engine/config"
)

// prefillSender models a server: each request spends prefill before its
// first token (then calls FirstToken unless silent) and decode after it,
// on a real clock. It records how many requests were in prefill and in
// flight at once.
type prefillSender struct {
	clk              clock.Clock
	prefill, decode  time.Duration
	silent           bool // never report a first token (a non-streamed answer)
	inPrefill, inAll atomic.Int64
	peakPre, peakAll atomic.Int64
	mu               sync.Mutex
	credits          []Credit
	// rampViolations counts requests that found more than level(t) others
	// in prefill, where level is the ramp's level at t.
	level          func(elapsed time.Duration) int64
	t0             int64
	rampViolations atomic.Int64
}

func peak(p *atomic.Int64, v int64) {
	for {
		o := p.Load()
		if v <= o || p.CompareAndSwap(o, v) {
			return
		}
	}
}

func (s *prefillSender) Send(c *Credit) int64 {
	s.mu.Lock()
	s.credits = append(s.credits, *c)
	s.mu.Unlock()
	peak(&s.peakAll, s.inAll.Add(1))
	n := s.inPrefill.Add(1)
	peak(&s.peakPre, n)
	if s.level != nil && n > s.level(time.Duration(s.clk.Now()-s.t0)) {
		s.rampViolations.Add(1)
	}
	time.Sleep(s.prefill)
	s.inPrefill.Add(-1)
	if !s.silent {
		c.FirstToken()
		c.FirstToken() // a second call must not free a second slot
	}
	time.Sleep(s.decode)
	s.inAll.Add(-1)
	return s.clk.Now()
}

func prefillEnv(snd *prefillSender, requests int, pf config.Prefill) *Env {
	clk := NewClock()
	snd.clk = clk
	snd.t0 = clk.Now()
	ds := convs(4, 1, 0)
	return &Env{Clock: clk, Seed: testSeed, Stop: config.Stop{Requests: requests}, Dataset: ds,
		Sampler: &seqSampler{n: len(ds)}, URLs: 1, Sender: snd, Prefill: pf}
}

func TestPrefillConcurrencyCapsWaitingForFirstToken(t *testing.T) {
	snd := &prefillSender{prefill: 4 * time.Millisecond, decode: 30 * time.Millisecond}
	conc, err := NewConcurrency(8, nil)
	if err != nil {
		t.Fatal(err)
	}
	rep := run(t, conc, prefillEnv(snd, 40, config.Prefill{Concurrency: 2}))
	if rep.Issued != 40 {
		t.Fatalf("issued %d, want 40", rep.Issued)
	}
	if p := snd.peakPre.Load(); p != 2 {
		t.Errorf("at most %d requests were in prefill at once, want exactly the cap 2", p)
	}
	// Decode is not capped: requests past their first token overlap.
	if p := snd.peakAll.Load(); p <= 2 {
		t.Errorf("peak in flight %d: the prefill cap held whole requests, not their prefill", p)
	}
	// The queueing shows: requests held for a slot got their credit late.
	held := 0
	for _, c := range snd.credits {
		if c.CreditNs > c.ScheduledNs {
			held++
		}
	}
	if held == 0 {
		t.Error("no request waited for a prefill slot (CreditNs > ScheduledNs), though 8 sessions share 2 slots")
	}
}

func TestPrefillSlotFreedWhenNoFirstToken(t *testing.T) {
	// A request that never reports a first token holds its slot to its end;
	// the run still completes (the slot comes back when Send returns).
	snd := &prefillSender{prefill: time.Millisecond, decode: time.Millisecond, silent: true}
	rr, err := NewRequestRate(2000, Poisson{}, 0, nil, nil, true)
	if err != nil {
		t.Fatal(err)
	}
	rep := run(t, rr, prefillEnv(snd, 30, config.Prefill{Concurrency: 1}))
	if rep.Issued != 30 || snd.peakAll.Load() != 1 {
		t.Errorf("issued %d with %d in flight at most; want 30 with 1 (the slot is held to the end)", rep.Issued, snd.peakAll.Load())
	}
}

func TestPrefillRampRisesFromOne(t *testing.T) {
	// 1 → 3 over 300 ms: levels 1, 2 at 150 ms, 3 at 300 ms. Nobody may find
	// more requests in prefill than the level allows at that moment.
	snd := &prefillSender{prefill: 20 * time.Millisecond, decode: time.Millisecond}
	snd.level = func(e time.Duration) int64 {
		switch {
		case e >= 300*time.Millisecond:
			return 3
		case e >= 150*time.Millisecond:
			return 2
		}
		return 1
	}
	conc, err := NewConcurrency(6, nil)
	if err != nil {
		t.Fatal(err)
	}
	rep := run(t, conc, prefillEnv(snd, 40, config.Prefill{Concurrency: 3, Ramp: 300 * time.Millisecond}))
	if rep.Issued != 40 {
		t.Fatalf("issued %d, want 40", rep.Issued)
	}
	if v := snd.rampViolations.Load(); v > 0 {
		t.Errorf("%d requests entered prefill above the ramp's level", v)
	}
	if p := snd.peakPre.Load(); p != 3 {
		t.Errorf("peak prefill %d, want the ramp's target 3", p)
	}
}

func TestPrefillCancelledWhileWaiting(t *testing.T) {
	// Ctrl-C while requests wait for a slot: they are never sent and count
	// as dropped, not issued.
	snd := &prefillSender{prefill: 200 * time.Millisecond, decode: 0}
	conc, err := NewConcurrency(4, nil)
	if err != nil {
		t.Fatal(err)
	}
	env := prefillEnv(snd, 0, config.Prefill{Concurrency: 1})
	env.Stop = config.Stop{Duration: time.Hour}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	rep, err := conc.Run(ctx, env)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Issued != int64(len(snd.credits)) || rep.Issued != 1 || rep.Dropped != 3 || rep.Stop != StopCancelled {
		t.Errorf("issued %d (sender saw %d), dropped %d, stop %q; want 1 sent, the 3 waiting dropped, cancelled",
			rep.Issued, len(snd.credits), rep.Dropped, rep.Stop)
	}
}

func TestPrefillValidate(t *testing.T) {
	for _, pf := range []config.Prefill{{Concurrency: -1}, {Ramp: time.Second}, {Concurrency: 2, Ramp: -1}} {
		if err := pf.Validate(); err == nil {
			t.Errorf("%+v: no error", pf)
		}
	}
	if got := (config.Prefill{Concurrency: 4, Ramp: 30 * time.Second}).String(); got != "prefill concurrency 4, ramped from 1 over 30s" {
		t.Errorf("String() = %q", got)
	}
}
