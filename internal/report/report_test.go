package report_test

import (
	"bytes"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/loadstar/loadstar/internal/outputs"
	"github.com/loadstar/loadstar/internal/plot"
	"github.com/loadstar/loadstar/internal/report"
)

const fixtures = "../../testdata/results"

func render(t *testing.T, paths ...string) string {
	t.Helper()
	reg, err := outputs.NewRegistry()
	if err != nil {
		t.Fatal(err)
	}
	charts, err := plot.Charts(reg)
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range paths {
		paths[i] = filepath.Join(fixtures, p)
	}
	in, err := plot.Load(paths...)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := report.Write(&buf, in, report.Options{Charts: charts, Version: "test", Generated: time.Unix(0, 0)}); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// The page loads nothing: no URL in src/href/url(), no @import or @font-face.
var external = regexp.MustCompile(`(?i)(src|href)\s*=\s*["']?[a-z]+:|url\(|@import|@font-face`)

func checkSelfContained(t *testing.T, page string) {
	t.Helper()
	if m := external.FindString(page); m != "" {
		t.Errorf("the page refers to something outside it: %q", m)
	}
	if !strings.HasPrefix(page, "<!DOCTYPE html>") || !strings.HasSuffix(strings.TrimSpace(page), "</html>") {
		t.Error("not a complete HTML document")
	}
	if strings.Count(page, "<script>") != 1 {
		t.Error("want exactly the one inline script")
	}
}

func TestSingleRunReport(t *testing.T) {
	page := render(t, "run")
	checkSelfContained(t, page)
	for _, want := range []string{
		"loadstar report: run", `class="verdict INVALID"`, "p99 issue delay", // verdict and reason
		"Request throughput", "TTFT p99", // headline tiles
		`id="ttft_over_time"`, `id="timeslices_latency"`, "TTFT Per Request Over Time", // charts
		"<th>p99</th>", "Time to First Token</td><td>ms</td>", // metric table
		"Internal Server Error",        // error summary
		"endpoint.type", "timing.rate", // configuration
	} {
		if !strings.Contains(page, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if n := strings.Count(page, "<svg "); n != 12 {
		t.Errorf("%d inline SVG charts, want the 12 of a single run", n)
	}
	if strings.Contains(page, "<?xml") {
		t.Error("XML prolog inside HTML")
	}
}

func TestSweepReport(t *testing.T) {
	page := render(t, "sweep")
	checkSelfContained(t, page)
	for _, want := range []string{"Comparison", "sweep / concurrency_4", `class="best"`, `id="latency_vs_load"`,
		"Pareto Curve: Token Throughput vs Interactivity", "<summary>concurrency_1"} {
		if !strings.Contains(page, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if n := strings.Count(page, "<svg "); n != 5 {
		t.Errorf("%d inline SVG charts, want the 5 comparison charts", n)
	}
}

// An AIPerf file has no verdict: none is shown rather than a made-up VALID.
func TestAIPerfReportHasNoVerdict(t *testing.T) {
	page := render(t, "../../internal/resultsdir/testdata/aiperf15")
	checkSelfContained(t, page)
	if strings.Contains(page, `class="verdict VALID"`) || !strings.Contains(page, "CANCELLED") {
		t.Error("AIPerf run: want no verdict badge and the cancelled mark")
	}
}
