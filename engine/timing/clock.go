package timing

import (
	"context"
	"runtime"
	"time"

	"github.com/loadstar/loadstar/engine/clock"
)

// PreciseClock is the clock a run's schedule should be released on: a
// clock.Real whose SleepUntil reaches absolute deadlines within tens of
// microseconds without burning a CPU.
//
// Go's timers are precise while the process is busy, but when every
// goroutine is parked the runtime waits in epoll with a millisecond timeout,
// so a timer due in 300 µs fires up to a millisecond late — exactly the
// situation of an open-loop schedule between arrivals. Spinning through the
// last millisecond fixes that at the price of a busy CPU, which the kernel
// then punishes with late wake-ups whenever the machine is shared. Instead,
// the last stretch is waited on a Linux timerfd (a kernel hrtimer) read
// through the netpoller, with the same deadline set on the read so that the
// runtime timer wakes it first if the process is busy; only the final
// few microseconds are spun, without yielding. Elsewhere the final 1.2 ms
// are spun.
//
// Nothing here yields with runtime.Gosched: a yielding goroutine waits in
// the global run queue, which a busy single-P process serves only every
// 61st scheduling round, so on a client pinned to one core every yield
// could delay a release by milliseconds.
type PreciseClock struct {
	*clock.Real
	fine fineSleeper
}

// NewClock returns a PreciseClock whose origin is now.
func NewClock() *PreciseClock { return &PreciseClock{Real: clock.New(), fine: newFineSleeper()} }

// NewClockSince returns a PreciseClock whose origin is d ago
// (clock.NewSince).
func NewClockSince(d time.Duration) *PreciseClock {
	return &PreciseClock{Real: clock.NewSince(d), fine: newFineSleeper()}
}

// The stretches of a wait: beyond coarseWindow a runtime timer (1 ms
// granularity at worst) brings the wait within it; the fine sleeper covers
// the rest to the deadline itself, and a wake-up less than spinWindow
// early is spun out.
const (
	coarseWindow = 2 * time.Millisecond
	spinWindow   = 5 * time.Microsecond
	// spinFallback is waited out with runtime.Gosched when no fine
	// sleeper is available.
	spinFallback = 1200 * time.Microsecond
)

// SleepUntil implements clock.Clock.
func (c *PreciseClock) SleepUntil(ctx context.Context, deadline int64) error {
	for {
		left := time.Duration(deadline - c.Now())
		if left <= 0 {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		switch {
		case left > coarseWindow:
			// Wakes 1-2 ms before the deadline even at millisecond granularity.
			t := time.NewTimer(left - coarseWindow)
			select {
			case <-ctx.Done():
				t.Stop()
				return ctx.Err()
			case <-t.C:
			}
		case left <= spinWindow:
			for c.Now() < deadline { // a few microseconds: not worth a sleep
			}
			return nil
		case c.fine != nil:
			c.fine.sleep(left)
		case left > spinFallback:
			time.Sleep(left - spinFallback) // no fine sleeper: up to 1 ms late, spun off below
		default:
			runtime.Gosched()
		}
	}
}

// fineSleeper sleeps short stretches precisely (nil where unsupported).
type fineSleeper interface {
	sleep(d time.Duration)
}
