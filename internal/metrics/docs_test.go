package metrics

import (
	"os"
	"strings"
	"testing"
)

// TestEveryMetricIsDocumented keeps docs/metrics.md in step with the metric
// definitions: every tag must appear there.
func TestEveryMetricIsDocumented(t *testing.T) {
	doc, err := os.ReadFile("../../docs/metrics.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range Defs() {
		if !strings.Contains(string(doc), "`"+d.Tag+"`") {
			t.Errorf("docs/metrics.md does not document %s", d.Tag)
		}
	}
}
