package traces

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/loadstar/loadstar/engine/dataset"
)

// Print writes the report for people: AIPerf's analyze-trace layout, then
// the arrivals and sessions.
func (a *Analysis) Print(w io.Writer) {
	bar := strings.Repeat("=", 60)
	fmt.Fprintf(w, "\nTrace Analysis Report\n%s\n", bar)
	if a.File != "" {
		fmt.Fprintf(w, "File:                  %s (%s, %d-token blocks)\n", a.File, a.Format, a.BlockSize)
	}
	fmt.Fprintf(w, "Total requests:        %s\n", group(float64(a.TotalRequests), 0))
	fmt.Fprintf(w, "Unique prefixes:       %s\n", group(float64(a.UniquePrefixes), 0))
	fmt.Fprintf(w, "Prefix reuse ratio:    %.2f%%\n", a.PrefixReuseRatio*100)
	fmt.Fprintf(w, "Prefix groups:         %s\n", group(float64(a.NumPrefixGroups), 0))
	fmt.Fprintf(w, "Cache hit rate:        %.2f%% (infinite cache)\n\n", a.CacheHitRate*100)
	for _, m := range []struct {
		name string
		s    *Stats
	}{{"Input Length", a.ISLStats}, {"Context Length", a.ContextLengthStats}, {"Unique Prompt Length", a.UniquePromptLengthStats},
		{"Output Length", a.OSLStats}, {"Theoretical Hit Rates", a.HitRateStats}} {
		printStats(w, m.name, m.s, "")
		fmt.Fprintln(w)
	}
	if ar := a.Arrivals; ar != nil {
		fmt.Fprintf(w, "Arrivals:\n")
		fmt.Fprintf(w, "  Timestamped requests: %s over %s s: %.3f req/s\n", group(float64(ar.Requests), 0), group(ar.DurationSec, 3), ar.Rate)
		if ar.Gaps != nil {
			fmt.Fprintf(w, "  Inter-arrival:        mean %.4f s, CV %.3f (gamma smoothness %.3f; 1 = Poisson)\n", ar.Gaps.Mean, ar.GapCV, ar.GammaSmoothness)
		}
		fmt.Fprintf(w, "  Per %s s window:       peak %.3f req/s, count dispersion %.3f (1 = Poisson)\n", group(ar.WindowSec, 0), ar.PeakRate, ar.Dispersion)
		fmt.Fprintf(w, "  Rate over time:       %s\n\n", sparkline(ar.Windows))
	}
	s := a.Sessions
	fmt.Fprintf(w, "Sessions:\n  Count:                %s (%s multi-turn)\n", group(float64(s.Count), 0), group(float64(s.MultiTurn), 0))
	printStats(w, "Turns per session", s.TurnsPerSession, "  ")
	if s.ThinkTimeMs != nil {
		printStats(w, "Think time (ms)", s.ThinkTimeMs, "  ")
	}
	if s.DurationSec != nil {
		printStats(w, "Session duration (s)", s.DurationSec, "  ")
	}
	fmt.Fprintf(w, "%s\n\n", bar)
}

func printStats(w io.Writer, name string, s *Stats, indent string) {
	if s == nil {
		fmt.Fprintf(w, "%s%s:\n%s  No data\n", indent, name, indent)
		return
	}
	fmt.Fprintf(w, "%s%s:\n", indent, name)
	for _, row := range []struct {
		k string
		v float64
	}{{"Mean:   ", s.Mean}, {"Std Dev:", s.StdDev}, {"Min:    ", s.Min}, {"P25:    ", s.P25}, {"Median: ", s.Median}, {"P75:    ", s.P75}, {"Max:    ", s.Max}} {
		fmt.Fprintf(w, "%s  %s %s\n", indent, row.k, group(row.v, 2))
	}
}

// group formats v with thousands separators and prec decimals (Python's
// "{:,.2f}").
func group(v float64, prec int) string {
	s := fmt.Sprintf("%.*f", prec, v)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	intPart, frac, _ := strings.Cut(s, ".")
	var b strings.Builder
	for i, c := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	out := b.String()
	if frac != "" {
		out += "." + frac
	}
	if neg {
		out = "-" + out
	}
	return out
}

// sparkline draws the window rates as block characters.
func sparkline(ws []Window) string {
	const ticks = "▁▂▃▄▅▆▇█"
	levels := []rune(ticks)
	peak := 0.0
	for _, w := range ws {
		peak = max(peak, w.Rate)
	}
	var b strings.Builder
	for i, w := range ws {
		if i == 80 {
			b.WriteString("…")
			break
		}
		k := 0
		if peak > 0 {
			k = int(math.Round(w.Rate / peak * float64(len(levels)-1)))
		}
		b.WriteRune(levels[k])
	}
	return b.String()
}

// WriteJSON writes the report as indented JSON.
func (a *Analysis) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(a)
}

// mooncakeRow is one line of a Mooncake trace as WriteTrace writes it.
type mooncakeRow struct {
	Timestamp    *int64  `json:"timestamp,omitempty"`
	SessionID    string  `json:"session_id,omitempty"`
	InputLength  int     `json:"input_length"`
	OutputLength *int    `json:"output_length,omitempty"`
	HashIDs      []int64 `json:"hash_ids,omitempty"`
	Delay        *int64  `json:"delay,omitempty"`
}

// WriteTrace writes rows as a Mooncake JSONL trace (timestamps and delays
// in whole milliseconds, sessions by id; self-contained rows without their
// session), which mooncake_trace reads back.
func WriteTrace(w io.Writer, rows []dataset.TraceRow) error {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	for _, r := range rows {
		m := mooncakeRow{InputLength: r.InputLength, HashIDs: r.HashIDs}
		if !r.SelfContained {
			// A Mooncake session sends its turns with their history; a
			// self-contained row (Bailian) already holds its whole context,
			// so it stays a request of its own, at its own time.
			m.SessionID = r.Session
		}
		if r.HasTimestamp {
			ts := int64(math.Round(r.TimestampMs))
			m.Timestamp = &ts
		}
		if r.HasDelay {
			d := int64(math.Round(r.DelayMs))
			m.Delay = &d
		}
		if r.OutputLength >= 0 {
			out := r.OutputLength
			m.OutputLength = &out
		}
		if err := enc.Encode(&m); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// Compare prints the headline figures of a trace before and after a
// synthesis, side by side.
func Compare(w io.Writer, before, after *Analysis) {
	rate := func(a *Analysis) float64 {
		if a.Arrivals == nil {
			return 0
		}
		return a.Arrivals.Rate
	}
	rows := []struct {
		name   string
		b, a   float64
		format string
	}{
		{"requests", float64(before.TotalRequests), float64(after.TotalRequests), "%.0f"},
		{"rate (req/s)", rate(before), rate(after), "%.3f"},
		{"mean ISL", before.AvgISL, after.AvgISL, "%.1f"},
		{"mean OSL", before.AvgOSL, after.AvgOSL, "%.1f"},
		{"prefix reuse ratio", before.PrefixReuseRatio, after.PrefixReuseRatio, "%.4f"},
		{"cache hit rate", before.CacheHitRate, after.CacheHitRate, "%.4f"},
	}
	if before.ContextLengthStats != nil && after.ContextLengthStats != nil {
		rows = append(rows, struct {
			name   string
			b, a   float64
			format string
		}{"mean context length", before.ContextLengthStats.Mean, after.ContextLengthStats.Mean, "%.1f"})
	}
	fmt.Fprintf(w, "%-22s %14s %14s\n", "", "input", "synthesized")
	for _, r := range rows {
		fmt.Fprintf(w, "%-22s %14s %14s\n", r.name, fmt.Sprintf(r.format, r.b), fmt.Sprintf(r.format, r.a))
	}
}
