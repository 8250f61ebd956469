// Package clock is the single time source of a benchmark run. Every request
// timestamp is a monotonic nanosecond count from the same Clock, so that
// differences (TTFT, ITL, issue delay) never mix clocks; the wall-clock start
// of the run is captured once, next to its monotonic reading, for export.
//
// Tests inject a Fake clock so that schedulers run instantly.
package clock

import (
	"context"
	"sync"
	"time"
)

// Clock gives monotonic nanoseconds and waits until absolute deadlines.
type Clock interface {
	// Now returns monotonic nanoseconds since an arbitrary fixed origin.
	Now() int64
	// Wall converts a monotonic reading to wall-clock Unix nanoseconds.
	Wall(mono int64) int64
	// SleepUntil blocks until Now() >= deadline or ctx is done. It returns
	// ctx.Err() when interrupted, nil otherwise.
	SleepUntil(ctx context.Context, deadline int64) error
}

// Real is the process monotonic clock. The zero value is not usable; call New.
type Real struct {
	origin     time.Time // carries Go's monotonic reading
	originWall int64
	// spin is how long before a deadline SleepUntil stops sleeping and spins.
	spin time.Duration
}

// DefaultSpin is the final stretch Real.SleepUntil busy-waits. Go's runtime
// timers can wake up to about a millisecond late in an idle process (median
// ~320 µs measured here), so Real is accurate only to that; benchmark runs
// release requests on timing.PreciseClock, which sleeps on a Linux timerfd
// and spins the last 50 µs (p99 issue delay in the tens of µs).
const DefaultSpin = 200 * time.Microsecond

// New returns a real clock whose origin is now.
func New() *Real {
	now := time.Now()
	return &Real{origin: now, originWall: now.UnixNano(), spin: DefaultSpin}
}

// NewSince returns a real clock whose origin is d ago: times up to d in the
// past are positive on it (a shard that arrives after its common start
// still stamps that start).
func NewSince(d time.Duration) *Real {
	c := New()
	c.origin = c.origin.Add(-d)
	c.originWall = c.origin.UnixNano()
	return c
}

// Now implements Clock.
func (c *Real) Now() int64 { return int64(time.Since(c.origin)) }

// Wall implements Clock.
func (c *Real) Wall(mono int64) int64 { return c.originWall + mono }

// SleepUntil implements Clock: it sleeps to within the spin window of an
// absolute deadline, then yields in a loop until the deadline passes.
func (c *Real) SleepUntil(ctx context.Context, deadline int64) error {
	for {
		left := time.Duration(deadline - c.Now())
		if left <= 0 {
			return nil
		}
		if left > c.spin {
			t := time.NewTimer(left - c.spin)
			select {
			case <-ctx.Done():
				t.Stop()
				return ctx.Err()
			case <-t.C:
			}
			continue
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		spinYield()
	}
}

// Fake is a manually advanced clock for tests. SleepUntil returns at once,
// advancing the clock to the deadline, so schedules run without real waiting.
type Fake struct {
	mu  sync.Mutex
	now int64
	// WallOrigin is the wall-clock value of monotonic 0.
	WallOrigin int64
}

// NewFake returns a fake clock at monotonic 0 and wall time 2026-01-01T00:00:00Z.
func NewFake() *Fake {
	return &Fake{WallOrigin: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano()}
}

// Now implements Clock.
func (f *Fake) Now() int64 { f.mu.Lock(); defer f.mu.Unlock(); return f.now }

// Wall implements Clock.
func (f *Fake) Wall(mono int64) int64 { return f.WallOrigin + mono }

// Advance moves the clock forward by d.
func (f *Fake) Advance(d time.Duration) { f.mu.Lock(); f.now += int64(d); f.mu.Unlock() }

// SleepUntil implements Clock by jumping to the deadline.
func (f *Fake) SleepUntil(ctx context.Context, deadline int64) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	f.mu.Lock()
	if deadline > f.now {
		f.now = deadline
	}
	f.mu.Unlock()
	return nil
}
