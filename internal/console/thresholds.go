package console

import (
	"fmt"
	"io"
	"strings"

	"github.com/loadstar/loadstar/engine/results"
)

// Thresholds prints every threshold of the run with ✓ or ✗, its
// expression and the value measured, passing ones too (plugin thresholds),
// as k6's summary does:
//
//	                  loadstar | Thresholds
//	┏━━━┳━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━┓
//	┃   ┃ Metric              ┃ Threshold    ┃ Measured       ┃
//	┡━━━╇━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━┩
//	│ ✓ │ time_to_first_token │ p99 < 500ms  │ p99 = 54.17 ms │
//	│ ✗ │ request_error_rate  │ value < 1%   │ value = 5.00 % │
//	└───┴─────────────────────┴──────────────┴────────────────┘
//	Thresholds: 1 passed, 1 failed
//
// A run without thresholds prints nothing.
type Thresholds struct{}

// Print implements Exporter.
func (Thresholds) Print(w io.Writer, sum *results.Summary, st Style) error {
	if len(sum.Thresholds) == 0 {
		return nil
	}
	t := &table{title: "loadstar | Thresholds", headers: []string{"", "Metric", "Threshold", "Measured"},
		left: []bool{true, true, true, true}}
	passed, failed := 0, 0
	var notes []string
	for _, r := range sum.Thresholds {
		mark := cell{text: "✓", style: ansiGreen}
		if r.Passed {
			passed++
		} else {
			failed++
			mark = cell{text: "✗", style: ansiBold + ansiRed}
		}
		measured, ok := thresholdMeasured(r)
		if !ok {
			notes = append(notes, r.Message)
		}
		t.add(mark, cell{text: r.Threshold.Metric, style: ansiCyan}, cell{text: r.Threshold.Expr}, cell{text: measured})
	}
	var b strings.Builder
	b.WriteString("\n")
	t.render(&b, st.Color)
	summary := fmt.Sprintf("%d passed", passed)
	if failed > 0 {
		summary += ", " + paint(fmt.Sprintf("%d failed", failed), ansiBold+ansiRed, st.Color)
	}
	fmt.Fprintf(&b, "Thresholds: %s\n", summary)
	for _, n := range notes {
		fmt.Fprintf(&b, "  - %s\n", n)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// thresholdMeasured renders the statistic a threshold compared, "p99 =
// 54.17 ms"; false when nothing was measured (the message says why).
func thresholdMeasured(r results.ThresholdResult) (string, bool) {
	if r.Stat == "" {
		return "—", false
	}
	unit := ""
	if r.Unit != "" {
		unit = " " + r.Unit
	}
	return fmt.Sprintf("%s = %s%s", r.Stat, number(r.Actual), unit), true
}
