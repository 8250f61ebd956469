package timing

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"
)

func TestPreciseClockNeverEarly(t *testing.T) {
	c := NewClock()
	var wg sync.WaitGroup
	for g := range 8 { // concurrent sleepers each borrow their own timerfd
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(g), 1))
			for range 50 {
				deadline := c.Now() + int64(r.IntN(3_000_000)) // 0 – 3 ms ahead
				if err := c.SleepUntil(context.Background(), deadline); err != nil {
					t.Error(err)
					return
				}
				if now := c.Now(); now < deadline {
					t.Errorf("woke %v early", time.Duration(deadline-now))
				}
			}
		}()
	}
	wg.Wait()
}

func TestPreciseClockCancel(t *testing.T) {
	c := NewClock()
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(20*time.Millisecond, cancel)
	start := time.Now()
	err := c.SleepUntil(ctx, c.Now()+int64(time.Hour))
	if err != context.Canceled || time.Since(start) > time.Second {
		t.Errorf("SleepUntil = %v after %v; want context.Canceled soon after the cancel", err, time.Since(start))
	}
	if err := c.SleepUntil(ctx, c.Now()-1); err != nil {
		t.Errorf("a past deadline returns %v, want nil even when cancelled", err)
	}
}

// BenchmarkSleepUntilLateness measures how late SleepUntil returns for
// deadlines of a 2,000 req/s Poisson schedule (reported as µs quantiles),
// and the CPU it costs, for the precise clock and the plain clock.Real.
func BenchmarkSleepUntilLateness(b *testing.B) {
	for _, name := range []string{"precise", "real"} {
		b.Run(name, func(b *testing.B) {
			var c interface {
				Now() int64
				SleepUntil(context.Context, int64) error
			} = NewClock()
			if name == "real" {
				c = NewClock().Real
			}
			r := rand.New(rand.NewPCG(42, 1))
			late := make([]float64, 0, b.N)
			next := c.Now()
			for b.Loop() {
				next += int64(r.ExpFloat64() * 500e3)
				_ = c.SleepUntil(context.Background(), next)
				late = append(late, float64(c.Now()-next)/1e3)
			}
			slices.Sort(late)
			q := func(p float64) float64 { return late[int(p*float64(len(late)-1))] }
			b.ReportMetric(q(0.5), "p50-µs")
			b.ReportMetric(q(0.99), "p99-µs")
			b.ReportMetric(late[len(late)-1], "max-µs")
		})
	}
}

func ExamplePreciseClock() {
	c := NewClock()
	deadline := c.Now() + int64(1500*time.Microsecond)
	_ = c.SleepUntil(context.Background(), deadline) // an absolute deadline, not a relative sleep
	fmt.Println(c.Now() >= deadline)
	// Output: true
}
