package servermetrics

import (
	"os"
	"regexp"
	"testing"
	"time"

	"github.com/loadstar/loadstar/engine/results"
)

// fixture reads testdata/name.
func fixture(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

var sampleValue = regexp.MustCompile(`(?m)^([^#\s][^{\s]*(?:\{[^}]*\})?) \S+$`)

// zeroed is the exposition with every sample at 0: the reference of a
// fixture, so that the window increases equal the fixture's values.
func zeroed(text string) string { return sampleValue.ReplaceAllString(text, "$1 0") }

// feed runs a collection without HTTP: texts[0] is scraped before the
// window, the rest inside it, step apart; slice > 0 turns on time slices.
func feed(t *testing.T, kind string, slice, step time.Duration, texts ...string) *results.ServerMetrics {
	t.Helper()
	c := &Collector{cfg: Config{SliceDuration: slice}.withDefaults(), start: time.Now()}
	e := newEndpoint(c, "http://127.0.0.1:1/metrics", kind, false)
	c.eps = []*endpoint{e}
	t0 := time.Unix(1_700_000_000, 0)
	for i, text := range texts {
		snap, err := Parse([]byte(text))
		if err != nil {
			t.Fatalf("text %d: %v", i, err)
		}
		at := t0.Add(time.Duration(i) * step)
		if i == 1 {
			c.windowStart.Store(t0.Add(step / 2).UnixNano())
			e.enter(inWindow)
		}
		e.record(fetched{sent: at, firstByte: at, done: at}, true, uint64(i), snap)
		e.apply(snap, at.UnixNano())
	}
	c.windowNs.Store(t0.Add(time.Duration(len(texts)-1)*step + step/2).UnixNano())
	e.enter(afterWindow)
	return c.summarize()
}

func figure(t *testing.T, sm *results.ServerMetrics, name string) *results.ServerFigure {
	t.Helper()
	f := sm.Figure(name)
	if f == nil {
		var have []string
		for _, x := range sm.Figures {
			have = append(have, x.Name)
		}
		t.Fatalf("figure %s missing; have %v", name, have)
	}
	return f
}

func near(a, b float64) bool {
	d := a - b
	if d < 0 {
		d = -d
	}
	return d <= 1e-9*max(1, abs(a), abs(b))
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}
