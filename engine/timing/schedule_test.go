package timing

import (
	"fmt"
	"math"
	"testing"
	"time"
)

const testSeed = 42

// offsets draws n arrivals (or all of an exact schedule) in seconds.
func offsets(t *testing.T, s *Schedule, n int) []float64 {
	t.Helper()
	out := make([]float64, 0, n)
	for len(out) < n {
		off, ok := s.Next()
		if !ok {
			break
		}
		out = append(out, off.Seconds())
	}
	return out
}

func gapsOf(ts []float64) []float64 {
	g := make([]float64, len(ts))
	prev := 0.0
	for i, t := range ts {
		g[i] = t - prev
		prev = t
	}
	return g
}

func meanVar(xs []float64) (float64, float64) {
	m := 0.0
	for _, x := range xs {
		m += x
	}
	m /= float64(len(xs))
	v := 0.0
	for _, x := range xs {
		v += (x - m) * (x - m)
	}
	return m, v / float64(len(xs)-1)
}

// dispersion is the variance/mean ratio of arrival counts in windows of w
// seconds over [0, end): 1 for a Poisson process, below 1 for smoother ones.
func dispersion(ts []float64, w, end float64) float64 {
	n := int(end / w)
	counts := make([]float64, n)
	for _, t := range ts {
		if i := int(t / w); i < n {
			counts[i]++
		}
	}
	m, v := meanVar(counts)
	return v / m
}

func within(t *testing.T, what string, got, want, tol float64) {
	t.Helper()
	if math.Abs(got-want) > tol {
		t.Errorf("%s = %.4f, want %.4f ± %.4f", what, got, want, tol)
	}
}

func TestScheduleConstant(t *testing.T) {
	s := NewSchedule(Constant{}, 4, nil, NewRand(testSeed, "schedule"), 0)
	ts := offsets(t, s, 8)
	for i, x := range ts {
		within(t, fmt.Sprintf("arrival %d", i), x, float64(i)*0.25, 1e-9)
	}
}

func TestSchedulePoissonStatistics(t *testing.T) {
	const rate, n = 1000.0, 200_000
	ts := offsets(t, NewSchedule(Poisson{}, rate, nil, NewRand(testSeed, "schedule"), 0), n)
	end := ts[len(ts)-1]
	within(t, "mean rate", float64(n)/end, rate, rate*0.01)
	m, v := meanVar(gapsOf(ts))
	within(t, "gap CV²", v/(m*m), 1, 0.03)
	within(t, "dispersion index (100 ms windows)", dispersion(ts, 0.1, end), 1, 0.1)
}

func TestScheduleGammaBurstiness(t *testing.T) {
	for _, k := range []float64{0.25, 0.5, 2, 4} {
		t.Run(fmt.Sprint(k), func(t *testing.T) {
			g, err := NewGamma(k)
			if err != nil {
				t.Fatal(err)
			}
			ts := offsets(t, NewSchedule(g, 500, nil, NewRand(testSeed, "schedule"), 0), 100_000)
			m, v := meanVar(gapsOf(ts))
			within(t, "mean gap (ms)", m*1e3, 2, 0.05)
			within(t, "gap CV² · k", v/(m*m)*k, 1, 0.06)
			// Counts in long windows: dispersion ≈ CV² = 1/k for a renewal process.
			within(t, "dispersion · k", dispersion(ts, 1, ts[len(ts)-1])*k, 1, 0.25)
		})
	}
}

func TestScheduleExactCount(t *testing.T) {
	for _, pat := range []ArrivalPattern{Poisson{}, Constant{}, Gamma{0.5}, Gamma{3}} {
		t.Run(pat.String(), func(t *testing.T) {
			const rate, n = 2000.0, 20_000
			s := NewSchedule(pat, rate, nil, NewRand(testSeed, "schedule"), n)
			ts := offsets(t, s, n+10)
			if len(ts) != n {
				t.Fatalf("exact schedule gave %d arrivals, want %d", len(ts), n)
			}
			// The realized rate is the target exactly: n arrivals fill [0, n/rate),
			// the last one a single gap before the end.
			if last := ts[n-1]; last >= n/rate || last < n/rate-20/rate {
				t.Errorf("last arrival at %.6f s, want within a few gaps before %.6f s", last, n/rate)
			}
			if _, ok := pat.(Constant); ok {
				within(t, "constant: last arrival (s)", ts[n-1], (n-1)/rate, 1e-6)
			}
			for i := 1; i < n; i++ {
				if ts[i] < ts[i-1] {
					t.Fatalf("arrival %d at %v before arrival %d at %v", i, ts[i], i-1, ts[i-1])
				}
			}
			if k, ok := pat.(GammaShaped); ok && !math.IsInf(k.GammaShape(), 1) {
				m, v := meanVar(gapsOf(ts))
				within(t, "gap CV² · k", v/(m*m)*k.GammaShape(), 1, 0.08)
				// Conditioning on the count only damps windows near the span.
				within(t, "dispersion · k (50 ms windows)", dispersion(ts, 0.05, ts[n-1])*k.GammaShape(), 1, 0.15)
			}
		})
	}
}

func TestScheduleReproducible(t *testing.T) {
	a := offsets(t, NewSchedule(Gamma{0.7}, 100, nil, NewRand(7, "schedule"), 0), 1000)
	b := offsets(t, NewSchedule(Gamma{0.7}, 100, nil, NewRand(7, "schedule"), 0), 1000)
	c := offsets(t, NewSchedule(Gamma{0.7}, 100, nil, NewRand(8, "schedule"), 0), 1000)
	same := 0
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("seed 7 arrival %d: %v then %v", i, a[i], b[i])
		}
		if i > 0 && a[i] == c[i] {
			same++
		}
	}
	if same > 0 {
		t.Errorf("seeds 7 and 8 share %d arrival times", same)
	}
	// Concerns draw independent streams.
	if NewRand(7, "schedule").Uint64() == NewRand(7, "ramp").Uint64() {
		t.Error(`NewRand(7, "schedule") and NewRand(7, "ramp") start alike`)
	}
}

func TestScheduleRamp(t *testing.T) {
	// Linear rate ramp to 1000 req/s over 10 s, then 10 s at the target.
	r, err := NewLinear(10*time.Second, 0, 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	steps := r.Steps(1000, false, NewRand(testSeed, "ramp"))
	// Expected count: the ramp's area (≈ 5000, starting at 10 req/s) plus 10,000.
	want := expectedCount(1000, steps, 20*time.Second)
	within(t, "expected count", want, 15_000, 60)
	ts := offsets(t, NewSchedule(Poisson{}, 1000, steps, NewRand(testSeed, "schedule"), 0), 100_000)
	perSecond := make([]float64, 20)
	for _, x := range ts {
		if i := int(x); i < 20 {
			perSecond[i]++
		}
	}
	for sec := range 20 {
		level := 1000.0
		if sec < 10 {
			level = 1000 * (float64(sec) + 0.5) / 10 // mid-second of the ramp
		}
		within(t, fmt.Sprintf("requests in second %d", sec), perSecond[sec], level, 5*math.Sqrt(level)+15)
	}
	// Exact over the ramp: the count is conditioned, the span is the ramp's.
	s := NewSchedule(Poisson{}, 1000, steps, NewRand(testSeed, "schedule"), int64(math.Floor(want)))
	ex := offsets(t, s, 100_000)
	if len(ex) != int(math.Floor(want)) || ex[len(ex)-1] >= 20 || ex[len(ex)-1] < 19.99 {
		t.Errorf("exact ramped schedule: %d arrivals, last at %.3f s; want %d ending near 20 s", len(ex), ex[len(ex)-1], int(want))
	}
}

func TestGammaVariate(t *testing.T) {
	r := NewRand(testSeed, "gamma")
	for _, k := range []float64{0.3, 1, 2.5, 50} {
		xs := make([]float64, 100_000)
		for i := range xs {
			xs[i] = gammaVariate(r, k)
		}
		m, v := meanVar(xs)
		within(t, fmt.Sprintf("Gamma(%v) mean/k", k), m/k, 1, 0.02)
		within(t, fmt.Sprintf("Gamma(%v) var/k", k), v/k, 1, 0.05)
	}
	for _, ab := range [][2]float64{{1, 9}, {2, 3}, {0.5, 50}} {
		xs := make([]float64, 100_000)
		for i := range xs {
			xs[i] = betaVariate(r, ab[0], ab[1])
		}
		m, _ := meanVar(xs)
		want := ab[0] / (ab[0] + ab[1])
		within(t, fmt.Sprintf("Beta%v mean", ab), m, want, want*0.02)
	}
}

func BenchmarkSchedulePoisson(b *testing.B) {
	s := NewSchedule(Poisson{}, 2000, nil, NewRand(testSeed, "schedule"), 0)
	for b.Loop() {
		s.Next()
	}
}

func BenchmarkScheduleGammaExact(b *testing.B) {
	s := NewSchedule(Gamma{0.5}, 2000, nil, NewRand(testSeed, "schedule"), 1<<62)
	for b.Loop() {
		s.Next()
	}
}

// A seeded Poisson schedule at 10 req/s: each call to Next returns the next
// arrival's offset from the start of the phase.
func ExampleSchedule() {
	s := NewSchedule(Poisson{}, 10, nil, NewRand(42, "schedule"), 0)
	for range 3 {
		off, _ := s.Next()
		fmt.Println(off.Round(time.Millisecond))
	}
	// Output:
	// 0s
	// 10ms
	// 61ms
}
