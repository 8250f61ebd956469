package compare

import (
	"fmt"
	"io"
	"math"
	"strings"
	"text/tabwriter"
)

// WriteText prints the comparison as a table, then the limits and a one-line
// verdict.
func (r *Report) WriteText(w io.Writer) error {
	fmt.Fprintf(w, "base: %s (%s)\nnew:  %s (%s)\n", r.Base.Name, runsWord(r.Base), r.New.Name, runsWord(r.New))
	fmt.Fprintf(w, "significant: a difference at level %g (p-values adjusted for %d tests, Holm) and a change of at least %g%%\ntests: %s\n\n",
		r.Options.Alpha, r.tests(), 100*r.Options.MinChange, r.testsUsed())
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "Metric\tStat\tBase\tNew\tChange\tTest\tp-value\tSignificant\t")
	for _, row := range r.Rows {
		name := row.Header
		if row.Unit != "" && !strings.Contains(row.Unit, "requests") || row.Unit == "requests/sec" {
			name += " (" + row.Unit + ")"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", name, row.Stat, number(row.Base), number(row.New),
			FormatChange(row.ChangePct), testAbbrev[row.Test], formatP(row), verdictWord(row))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(r.Options.Limits) > 0 {
		fmt.Fprintln(w, "\nLimits:")
		for _, row := range r.Rows {
			if row.Limit == nil {
				continue
			}
			state := "ok"
			if row.Crossed {
				state = "CROSSED"
			}
			fmt.Fprintf(w, "  %-40s %-8s change %s%s\n", row.Limit.Text, state, FormatChange(row.ChangePct), noiseNote(row))
		}
	}
	for _, n := range r.Notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
	fmt.Fprintf(w, "\n%s\n", r.Summary())
	return nil
}

// Summary is the one-line verdict.
func (r *Report) Summary() string {
	sig, crossed := r.SignificantChanges(), r.Crossed()
	var parts []string
	if len(sig) == 0 {
		parts = append(parts, "no significant change")
	} else {
		worse := 0
		for _, s := range sig {
			if s.Better < 0 {
				worse++
			}
		}
		parts = append(parts, fmt.Sprintf("%d significant change(s), %d for the worse", len(sig), worse))
	}
	if len(r.Options.Limits) > 0 {
		parts = append(parts, fmt.Sprintf("%d of %d limit(s) crossed", len(crossed), len(r.Options.Limits)))
	}
	return "Result: " + strings.Join(parts, "; ")
}

func runsWord(s *Side) string {
	if len(s.Runs) == 1 {
		return "1 run"
	}
	return fmt.Sprintf("%d trials", len(s.Runs))
}

func noiseNote(row Row) string {
	if !row.Tested() {
		return " (no noise estimate)"
	}
	if row.Significant {
		return ""
	}
	return " (within noise)"
}

func verdictWord(row Row) string {
	switch {
	case !row.Tested():
		return "n/a"
	case !row.Significant:
		return "no"
	case row.Better > 0:
		return "yes, better"
	case row.Better < 0:
		return "yes, worse"
	}
	return "yes"
}

// FormatChange renders a change in percent: +12.3%, -0.4%, n/a.
func FormatChange(pct float64) string {
	if math.IsNaN(pct) || math.IsInf(pct, 0) {
		return "n/a"
	}
	return fmt.Sprintf("%+.1f%%", pct)
}

// testAbbrev are the Test column's words.
var testAbbrev = map[string]string{TestWelch: "trials", TestBatches: "batches", TestRequests: "requests", TestQuantileCI: "CI", "": "-"}

// tests counts the rows with a p-value.
func (r *Report) tests() int {
	n := 0
	for _, row := range r.Rows {
		if !math.IsNaN(row.RawP) {
			n++
		}
	}
	return n
}

// testsUsed explains the Test column's words that appear.
func (r *Report) testsUsed() string {
	used := map[string]bool{}
	for _, row := range r.Rows {
		used[row.Test] = true
	}
	var parts []string
	if used[TestBatches] {
		parts = append(parts, "batches = Mann-Whitney U over batches of consecutive requests")
	}
	if used[TestRequests] {
		parts = append(parts, "requests = Mann-Whitney U over single requests (too few for batches)")
	}
	if used[TestQuantileCI] {
		parts = append(parts, "CI = the quantiles' confidence intervals do not overlap")
	}
	if used[TestWelch] {
		parts = append(parts, "trials = Welch t-test over the trials")
	}
	if used[""] {
		parts = append(parts, "- = one value per run, no noise estimate")
	}
	return strings.Join(parts, "; ")
}

func formatP(row Row) string {
	switch {
	case math.IsNaN(row.P):
		return "-"
	case row.P < 0.001:
		return "<0.001"
	}
	return fmt.Sprintf("%.3f", row.P)
}

func number(v float64) string {
	switch {
	case math.IsNaN(v):
		return "N/A"
	case math.IsInf(v, 0):
		return "inf"
	case math.Abs(v) >= 1000:
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.2f", v)
}
