package metrics

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// sortFloats sorts as slices.Sort does, whatever the values: negative,
// zeros of both signs, infinities, NaNs, repeats, one value throughout.
func TestSortFloatsIsSlicesSort(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	gens := map[string]func(i int) float64{
		"latencies": func(int) float64 { return 1e6 + rng.ExpFloat64()*3e5 },
		"mixed": func(int) float64 {
			switch rng.IntN(20) {
			case 0:
				return math.NaN()
			case 1:
				return math.Inf(1 - 2*rng.IntN(2))
			case 2:
				return math.Copysign(0, float64(1-2*rng.IntN(2)))
			}
			return rng.NormFloat64() * math.Pow(10, float64(rng.IntN(30)-15))
		},
		"constant": func(int) float64 { return 16 },
		"few":      func(int) float64 { return float64(rng.IntN(3)) },
		"nan":      func(int) float64 { return math.NaN() },
		"rising":   func(i int) float64 { return float64(i) },
	}
	for name, gen := range gens {
		for _, n := range []int{0, 1, radixMin - 1, radixMin, 3*radixMin + 17} {
			got := make([]float64, n)
			for i := range got {
				got[i] = gen(i)
			}
			want := slices.Clone(got)
			slices.Sort(want)
			sortFloats(got)
			for i := range got {
				g, w := got[i], want[i]
				same := g == w || (math.IsNaN(g) && math.IsNaN(w))
				if !same {
					t.Fatalf("%s, %d values: [%d] = %v, slices.Sort has %v", name, n, i, g, w)
				}
			}
		}
	}
}

// BenchmarkSortFloats sorts 150,000 latencies (a 5 s run at 30k req/s):
// ns/op per value against slices.Sort.
func BenchmarkSortFloats(b *testing.B) {
	rng := rand.New(rand.NewPCG(5, 6))
	vals := make([]float64, 150_000)
	for i := range vals {
		vals[i] = 1e6 + rng.ExpFloat64()*3e5
	}
	buf := make([]float64, len(vals))
	for _, c := range []struct {
		name string
		sort func([]float64)
	}{{"radix", sortFloats}, {"slices", slices.Sort[[]float64]}} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				copy(buf, vals)
				c.sort(buf)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(vals)), "ns/value")
		})
	}
}
