package servermetrics

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/loadstar/loadstar/engine/results"
	"github.com/loadstar/loadstar/internal/golden"
)

const (
	docPath  = "../../docs/server-metrics.md"
	docBegin = "<!-- BEGIN generated from engine/servermetrics (Views, GPUFields): go test ./engine/servermetrics -run TestDocs -update -->\n"
	docEnd   = "<!-- END generated -->\n"
)

// wireName is how a source metric appears in the server's exposition:
// counters with "_total" (Python's and llama.cpp's clients add it; TGI's
// Rust exporter and DCGM do not), histograms as their family name.
func wireName(s Source) string {
	name := s.Metric
	switch s.Read {
	case ReadIncrease, ReadRate:
		if s.Server != "tgi" && s.Server != "dcgm" {
			name += "_total"
		}
	case ReadRatio:
		return fmt.Sprintf("`%s_total` / `%s_total`", s.Metric, s.Over)
	case ReadHistogramSum, ReadHistogramSumRate:
		return fmt.Sprintf("`%s` (histogram sum)", name)
	}
	return "`" + name + "`"
}

func kindName(k results.FigureKind) string {
	switch k {
	case results.FigureGauge:
		return "gauge: avg, min, max, std, p1…p99"
	case results.FigureDistribution:
		return "histogram: avg, count, sum, p1…p99 (estimates)"
	}
	return "value"
}

// docTables renders the named figures (one row per figure, one column per
// server) and the GPU fields.
func docTables() string {
	var b strings.Builder
	b.WriteString("| figure | unit | statistics | across series |")
	for _, s := range Servers {
		fmt.Fprintf(&b, " %s |", s.Title)
	}
	b.WriteString("\n|---|---|---|---|")
	for range Servers {
		b.WriteString("---|")
	}
	b.WriteString("\n")
	combine := map[Combine]string{Sum: "sum", Mean: "mean", Max: "max"}
	for _, v := range Views {
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s |", v.Name, v.Unit, kindName(v.Kind), combine[v.Combine])
		for _, s := range Servers {
			var names []string
			for _, src := range v.Sources {
				if src.Server == s.Name {
					n := wireName(src)
					if src.Scale == toPct {
						n += " ×100"
					} else if src.Scale == toMs {
						n += " (s→ms)"
					} else if src.Scale != 1 {
						n += fmt.Sprintf(" ×%g", src.Scale)
					}
					names = append(names, n)
				}
			}
			if len(names) == 0 {
				b.WriteString(" — |")
			} else {
				fmt.Fprintf(&b, " %s |", strings.Join(names, ", then "))
			}
		}
		b.WriteString("\n")
	}
	b.WriteString("\nWhat each figure means:\n\n")
	for _, v := range Views {
		fmt.Fprintf(&b, "- `%s`: %s.\n", v.Name, v.Doc)
	}
	b.WriteString("\nGPU telemetry (per GPU in `r.server.gpus`, `gpu_telemetry_export.jsonl` and `telemetry_data`, under AIPerf's names):\n\n")
	b.WriteString("| DCGM field | AIPerf name | unit | reported as |\n|---|---|---|---|\n")
	for _, f := range GPUFields {
		how := "gauge statistics"
		if f.Counter {
			how = "increase over the run"
		}
		fmt.Fprintf(&b, "| `%s` | `%s` | %s | %s |\n", f.DCGM, f.Name, f.Unit, how)
	}
	return b.String()
}

// TestDocsListEveryFigure: docs/server-metrics.md's tables are generated
// from Views and GPUFields.
func TestDocsListEveryFigure(t *testing.T) {
	raw, err := os.ReadFile(docPath)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(raw)
	i, j := strings.Index(doc, docBegin), strings.Index(doc, docEnd)
	if i < 0 || j < i {
		t.Fatalf("%s lacks the generated section markers", docPath)
	}
	fresh := doc[:i+len(docBegin)] + docTables() + doc[j:]
	if golden.Update() {
		if err := os.WriteFile(docPath, []byte(fresh), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if d := golden.Diff([]byte(doc), []byte(fresh)); d != "" {
		t.Errorf("%s is stale:\n%s\n(%s)", docPath, d, golden.Command(t))
	}
}
