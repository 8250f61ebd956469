package dist

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestSampleMeans(t *testing.T) {
	r := rand.New(rand.NewPCG(42, 42))
	n, _ := NewNormal(100, 10)
	u, _ := NewUniform(10, 20)
	m, _ := NewMix([]Choice{{3, Fixed{1}}, {1, Fixed{5}}})
	for _, d := range []Dist{n, u, m, Fixed{7}} {
		sum := 0.0
		const N = 20000
		for i := 0; i < N; i++ {
			sum += d.Sample(r)
		}
		if got := sum / N; math.Abs(got-d.Mean()) > 0.02*math.Max(1, d.Mean()) {
			t.Errorf("%s: sample mean %v, want ~%v", d, got, d.Mean())
		}
	}
}

func TestValidation(t *testing.T) {
	if _, err := NewNormal(1, -1); err == nil {
		t.Error("negative stddev accepted")
	}
	if _, err := NewUniform(2, 1); err == nil {
		t.Error("lo > hi accepted")
	}
	if _, err := NewMix(nil); err == nil {
		t.Error("empty mix accepted")
	}
	if _, err := NewMix([]Choice{{0, Fixed{1}}}); err == nil {
		t.Error("zero weight accepted")
	}
}

func TestSampleIntClampsAndStrings(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	if v := SampleInt(Fixed{-3}, r, 1); v != 1 {
		t.Fatalf("SampleInt clamp = %d", v)
	}
	if s := (Normal{550, 0}).String(); s != "dist.normal(550, 0)" {
		t.Fatalf("String = %q", s)
	}
}
