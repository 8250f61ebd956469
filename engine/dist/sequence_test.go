package dist

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

func TestParseSequence(t *testing.T) {
	q, err := ParseSequence("128,64:30; 2048|100,256|20:70")
	if err != nil {
		t.Fatal(err)
	}
	if len(q.Pairs) != 2 || q.Pairs[0].ISL != (Fixed{128}) || q.Pairs[1].ISL != (Normal{2048, 100}) || q.Pairs[1].OSL != (Normal{256, 20}) {
		t.Fatalf("parsed %+v", q)
	}
	if q.String() != "128,64:30;2048|100,256|20:70" {
		t.Errorf("String() = %q", q.String())
	}
	r := rand.New(rand.NewPCG(1, 1))
	small := 0
	const n = 20000
	for i := 0; i < n; i++ {
		isl, osl := q.Sample(r)
		if isl == 128 {
			small++
			if osl != 64 {
				t.Fatalf("pair mixed: %v,%v", isl, osl)
			}
		}
	}
	if got := float64(small) / n; math.Abs(got-0.3) > 0.02 {
		t.Errorf("share of first pair %v, want 0.30", got)
	}
	for _, bad := range []struct{ in, want string }{
		{"128,64:30", "add up to 30"},
		{"128:100", "ISL,OSL:percent"},
		{"128,64", "ISL,OSL:percent"},
		{"x,64:100", `"x" is not a length`},
		{"128,64|-1:100", "stddev"},
		{"128,64:0;1,1:100", "must be a number > 0"},
		{"", "no ISL,OSL"},
	} {
		if _, err := ParseSequence(bad.in); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("ParseSequence(%q) = %v, want error containing %q", bad.in, err, bad.want)
		}
	}
}
