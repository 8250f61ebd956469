package runner

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/loadstar/loadstar/engine/config"
	"github.com/loadstar/loadstar/engine/errext"
	"github.com/loadstar/loadstar/engine/record"
)

// interrupter cancels a context as Ctrl-C does (cause errext.Interrupt) at
// the first progress report where when holds — on a loaded machine
// planning alone can outlast any fixed delay — and remembers the moment.
type interrupter struct {
	ctx    context.Context
	cancel context.CancelCauseFunc
	when   func(Progress) bool
	at     time.Time
}

func newInterrupter(t *testing.T, when func(Progress) bool) *interrupter {
	i := &interrupter{when: when}
	i.ctx, i.cancel = context.WithCancelCause(context.Background())
	t.Cleanup(func() { i.cancel(nil) })
	return i
}

// Progress implements Observer.
func (i *interrupter) Progress(p Progress) {
	if i.at.IsZero() && i.when(p) {
		i.at = time.Now()
		i.cancel(&errext.Interrupt{Signal: "SIGINT (Ctrl-C)"})
	}
}

// stopped is how long the step took to return after the interrupt.
func (i *interrupter) stopped(t *testing.T) time.Duration {
	if i.at.IsZero() {
		t.Fatal("the interrupt never fired")
	}
	return time.Since(i.at)
}

// stopBound is how long an interrupted step may take to return: the
// issue's "within 2 s", with room for a loaded test machine.
const stopBound = 5 * time.Second

// An interrupt cancels the requests in flight at once whatever the grace
// period (here practically infinite, as AIPerf's "inf"), recording them
// as cancelled with the interrupt as the reason.
func TestRunInterruptIgnoresInfiniteGrace(t *testing.T) {
	cfg := fastMock()
	cfg.Fast = false
	cfg.TTFT = time.Minute // every answer outlasts the test
	h := newHarness(t, cfg)
	b := h.bench(true, concurrency(3), config.Stop{Duration: 100 * time.Millisecond})
	b.Grace = 1_000_000 * time.Hour
	intr := newInterrupter(t, func(p Progress) bool { // after the duration: in the grace period
		return p.Phase == record.Profiling && p.Elapsed > 200*time.Millisecond && p.InFlight() == 3
	})
	sum := h.run(intr.ctx, b, prompts(3, 1), WithObserver(intr))
	if d := intr.stopped(t); d > stopBound {
		t.Errorf("the interrupted run took %v to return", d)
	}
	if !sum.Info.WasCancelled {
		t.Error("WasCancelled = false")
	}
	_, _, cancelled := h.checkBalance(sum)
	if cancelled != 3 {
		t.Fatalf("cancelled %d of %d issued (%+v %v), want the 3 requests in flight", cancelled, sum.Info.Issued, sum.Info, sum.Notes)
	}
	for _, r := range h.tally.phase(record.Profiling) {
		if r.Error == nil || r.Error.Type != record.ErrCancelled || !strings.Contains(r.Error.Message, "interrupted by SIGINT") {
			t.Errorf("record error %+v, want %s naming the interrupt", r.Error, record.ErrCancelled)
		}
	}
}

// An interrupt during the warmup (whose grace is unlimited by default)
// ends the step at once: no profiling phase, the results marked cancelled.
func TestRunInterruptDuringWarmup(t *testing.T) {
	cfg := fastMock()
	cfg.Fast = false
	cfg.TTFT = time.Minute
	h := newHarness(t, cfg)
	b := h.bench(true, concurrency(2), config.Stop{Requests: 10})
	b.Warmup = &config.Warmup{Stop: config.Stop{Requests: 4}}
	intr := newInterrupter(t, func(p Progress) bool { return p.Phase == record.Warmup && p.InFlight() == 2 })
	sum := h.run(intr.ctx, b, prompts(3, 1), WithObserver(intr))
	if d := intr.stopped(t); d > stopBound {
		t.Errorf("the run interrupted in its warmup took %v to return", d)
	}
	if !sum.Info.WasCancelled || sum.Info.Issued != 0 {
		t.Errorf("WasCancelled %v, profiling requests issued %d; want true, 0", sum.Info.WasCancelled, sum.Info.Issued)
	}
	warm := h.tally.phase(record.Warmup)
	if _, _, cancelled := outcomes(warm); cancelled != 2 {
		t.Errorf("warmup: %d of %d records cancelled, want 2", cancelled, len(warm))
	}
}

// A step planned after the interrupt does not start: it fails with exit
// code 7, not as an invalid configuration.
func TestPlanInterrupted(t *testing.T) {
	h := newHarness(t, fastMock())
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(&errext.Interrupt{Signal: "SIGTERM"})
	_, err := Plan(ctx, h.reg, h.bench(false, concurrency(1), config.Stop{Requests: 1}), nil)
	if errext.ExitCodeOf(err) != errext.Interrupted || !strings.Contains(err.Error(), "SIGTERM") {
		t.Errorf("Plan after an interrupt: %v (exit code %d), want exit code 7 naming SIGTERM", err, errext.ExitCodeOf(err))
	}
}

// Interrupted while the metrics side is behind, the queue gets a bounded
// moment to drain; the records it has not reached are left out and counted.
func TestQueueCloseWithinLeavesBacklog(t *testing.T) {
	q := newRecordQueue()
	for range 100 {
		q.push(record.New())
	}
	var wg sync.WaitGroup
	wg.Add(1)
	processed := 0
	go func() {
		defer wg.Done()
		q.drain(func(recs []*record.Record) {
			for _, r := range recs {
				processed++
				time.Sleep(5 * time.Millisecond) // a slow metrics side
				q.recycle(r)
			}
		})
	}()
	start := time.Now()
	skipped := q.closeWithin(100*time.Millisecond, &wg)
	if d := time.Since(start); d > stopBound {
		t.Errorf("closeWithin took %v", d)
	}
	if skipped == 0 || processed+skipped != 100 {
		t.Errorf("processed %d, skipped %d of 100: want a backlog left out and every record accounted for", processed, skipped)
	}
}

// With no backlog nothing is left out.
func TestQueueCloseWithinDrained(t *testing.T) {
	q := newRecordQueue()
	for range 10 {
		q.push(record.New())
	}
	var wg sync.WaitGroup
	wg.Add(1)
	processed := 0
	go func() { defer wg.Done(); q.drain(func(recs []*record.Record) { processed += len(recs) }) }()
	if skipped := q.closeWithin(10*time.Second, &wg); skipped != 0 || processed != 10 {
		t.Errorf("processed %d, skipped %d; want 10, 0", processed, skipped)
	}
}

// Records pushed one by one reach the metrics side in batches (one wake-up
// serves many), in push order, and closing ends the drain without waiting
// out the linger.
func TestQueueHandsOverBatches(t *testing.T) {
	q := newRecordQueue()
	var got []int
	calls := 0
	done := make(chan struct{})
	go func() {
		defer close(done)
		q.drain(func(recs []*record.Record) {
			calls++
			for _, r := range recs {
				got = append(got, r.SessionNum)
			}
		})
	}()
	for i := range 100 {
		r := record.New()
		r.SessionNum = i
		q.push(r)
	}
	q.close()
	select {
	case <-done:
	case <-time.After(stopBound):
		t.Fatal("drain did not return after close")
	}
	if len(got) != 100 {
		t.Fatalf("drained %d of 100 records", len(got))
	}
	for i, n := range got {
		if n != i {
			t.Fatalf("record %d arrived as number %d: out of order", n, i)
		}
	}
	if calls > 50 {
		t.Errorf("100 records took %d hand-overs: not batched", calls)
	}
}
