package timing

import (
	"math"
	"testing"
	"time"
)

func TestRampLinearDiscrete(t *testing.T) {
	r, err := NewLinear(4*time.Second, 0, 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	got := r.Steps(5, true, nil)
	want := []Step{{0, 1}, {time.Second, 2}, {2 * time.Second, 3}, {3 * time.Second, 4}, {4 * time.Second, 5}}
	if len(got) != len(want) {
		t.Fatalf("steps = %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("step %d = %v, want %v", i, got[i], want[i])
		}
	}
	// Step size 2 from 1 to 6: 3, 5, 6.
	r2, _ := NewLinear(5*time.Second, 0, 2, 0)
	got = r2.Steps(6, true, nil)
	if vals := values(got); !equal(vals, []float64{1, 3, 5, 6}) {
		t.Errorf("step=2 levels = %v, want [1 3 5 6]", vals)
	}
}

func TestRampLinearContinuous(t *testing.T) {
	r, _ := NewLinear(10*time.Second, 0, 1, 0)
	st := r.Steps(100, false, nil)
	// AIPerf's start rate: target × update interval / duration.
	if st[0].Value != 1 {
		t.Errorf("start rate = %v, want 1 (100 × 0.1 s / 10 s)", st[0].Value)
	}
	if len(st) != 101 {
		t.Errorf("%d steps, want one per 100 ms plus the start (101)", len(st))
	}
	if v := levelAt(st, 5*time.Second); math.Abs(v-50.5) > 1e-9 {
		t.Errorf("rate at 5 s = %v, want 50.5", v)
	}
	if last := st[len(st)-1]; last != (Step{10 * time.Second, 100}) {
		t.Errorf("last step = %v, want the target at the duration", last)
	}
}

func TestRampExponential(t *testing.T) {
	r, err := NewExponential(10*time.Second, 0, 2, 0)
	if err != nil {
		t.Fatal(err)
	}
	// Discrete ease-in: level v is reached at D·((v−1)/(N−1))^(1/2).
	st := r.Steps(5, true, nil)
	want := []time.Duration{0, 5 * time.Second, 7071067812, 8660254038, 10 * time.Second}
	for i, s := range st {
		if d := s.At - want[i]; d > time.Microsecond || d < -time.Microsecond {
			t.Errorf("level %v at %v, want %v", s.Value, s.At, want[i])
		}
	}
	// Continuous: slow start — a quarter of the way in, only 1/16 of the rise.
	c := r.Steps(160, false, nil)
	start := c[0].Value
	if v := levelAt(c, 2500*time.Millisecond); math.Abs(v-(start+(160-start)/16)) > 1e-9 {
		t.Errorf("rate at 2.5 s = %v, want %v", v, start+(160-start)/16)
	}
	if _, err := NewExponential(time.Second, 0, 1, 0); err == nil {
		t.Error("exponent 1 accepted; want an error (must be > 1)")
	}
}

func TestRampPoisson(t *testing.T) {
	r, err := NewPoissonRamp(30*time.Second, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	a := r.Steps(50, true, NewRand(testSeed, "ramp"))
	b := r.Steps(50, true, NewRand(testSeed, "ramp"))
	c := r.Steps(50, true, NewRand(testSeed+1, "ramp"))
	if len(a) != 50 {
		t.Fatalf("%d steps, want 50 (1 → 50 in unit steps)", len(a))
	}
	if a[len(a)-1] != (Step{30 * time.Second, 50}) {
		t.Errorf("last step %v, want the target exactly at 30 s", a[len(a)-1])
	}
	differs := false
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("same seed, step %d: %v vs %v", i, a[i], b[i])
		}
		if a[i] != c[i] {
			differs = true
		}
		if i > 0 && (a[i].At <= a[i-1].At || a[i].Value <= a[i-1].Value) {
			t.Fatalf("steps not increasing at %d: %v then %v", i, a[i-1], a[i])
		}
	}
	if !differs {
		t.Error("seeds 42 and 43 gave the same Poisson ramp")
	}
	// Uneven spacing: exponential gaps, not a linear ramp.
	m, v := meanVar(gapsOf(seconds(a[1:])))
	if cv2 := v / (m * m); cv2 < 0.4 {
		t.Errorf("gap CV² = %.2f; a Poisson ramp's steps should be irregular (≈ 1)", cv2)
	}
}

func TestRampValidation(t *testing.T) {
	if _, err := NewLinear(0, 0, 1, 0); err == nil {
		t.Error("duration 0 accepted")
	}
	if _, err := NewLinear(time.Second, -1, 1, 0); err == nil {
		t.Error("negative start accepted")
	}
	r, _ := NewLinear(time.Second, 0, 1, 0)
	if got := r.String(); got != `ramp.linear(duration="1s")` {
		t.Errorf("String() = %s", got)
	}
}

func values(st []Step) []float64 {
	v := make([]float64, len(st))
	for i, s := range st {
		v[i] = s.Value
	}
	return v
}

func seconds(st []Step) []float64 {
	v := make([]float64, len(st))
	for i, s := range st {
		v[i] = s.At.Seconds()
	}
	return v
}

func equal(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// levelAt returns the level of steps at offset t (the last step at or before t).
func levelAt(steps []Step, t time.Duration) float64 {
	v := steps[0].Value
	for _, s := range steps {
		if s.At > t {
			break
		}
		v = s.Value
	}
	return v
}
