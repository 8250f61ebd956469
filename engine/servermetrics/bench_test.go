package servermetrics

import (
	"os"
	"testing"
	"time"
)

// BenchmarkScrapeVLLM is the collector's cost per scrape of a vLLM-sized
// exposition (parse and fold into the window): at 3 scrapes a second it
// bounds the CPU that default-on scraping takes from the client.
func BenchmarkScrapeVLLM(b *testing.B) {
	body, err := os.ReadFile("testdata/vllm.txt")
	if err != nil {
		b.Fatal(err)
	}
	c := &Collector{cfg: Config{SliceDuration: time.Second}.withDefaults(), start: time.Now()}
	e := newEndpoint(c, "http://127.0.0.1:1/metrics", "server", false)
	c.eps = []*endpoint{e}
	c.windowStart.Store(time.Now().UnixNano())
	e.enter(inWindow)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		snap, err := Parse(body)
		if err != nil {
			b.Fatal(err)
		}
		e.apply(snap, time.Now().UnixNano())
	}
}
