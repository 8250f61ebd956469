package ui

import (
	"fmt"
	"math"
	"strings"
	"time"

	"charm.land/lipgloss/v2"

	"github.com/loadstar/loadstar/engine/config"
	"github.com/loadstar/loadstar/engine/results"
	"github.com/loadstar/loadstar/internal/metrics"
)

// styles are the dashboard's text styles; without colour (NO_COLOR) only
// bold and the borders remain.
type styles struct {
	title, label, value, muted, good, bad, accent, box lipgloss.Style
}

func newStyles(noColor bool) styles {
	st := styles{
		title:  lipgloss.NewStyle().Bold(true),
		label:  lipgloss.NewStyle(),
		value:  lipgloss.NewStyle().Bold(true),
		muted:  lipgloss.NewStyle(),
		good:   lipgloss.NewStyle().Bold(true),
		bad:    lipgloss.NewStyle().Bold(true),
		accent: lipgloss.NewStyle(),
		box:    lipgloss.NewStyle().Border(lipgloss.RoundedBorder()).Padding(0, 1),
	}
	if !noColor {
		st.title = st.title.Foreground(lipgloss.Color("#5FAFFF"))
		st.muted = st.muted.Foreground(lipgloss.Color("#8A8A8A"))
		st.good = st.good.Foreground(lipgloss.Color("#5FD75F"))
		st.bad = st.bad.Foreground(lipgloss.Color("#FF5F5F"))
		st.accent = st.accent.Foreground(lipgloss.Color("#5FAFFF"))
		st.box = st.box.BorderForeground(lipgloss.Color("#5F5F87"))
	}
	return st
}

// render draws the whole screen for the current size.
func (m dashModel) render() string {
	w := max(m.width, 40)
	var parts []string
	parts = append(parts, m.header(w), m.progressLine(w))
	panels := [][2]string{
		{m.requestsPanel(), m.throughputPanel()},
		{m.latencyPanel(), m.schedulePanel()},
		{m.errorsPanel(), m.checksPanel()},
	}
	if w >= 90 {
		left := w / 2
		for _, row := range panels {
			parts = append(parts, lipgloss.JoinHorizontal(lipgloss.Top,
				m.box(row[0], left), m.box(row[1], w-left)))
		}
	} else {
		for _, row := range panels {
			parts = append(parts, m.box(row[0], w), m.box(row[1], w))
		}
	}
	parts = append(parts, m.footer())
	out := strings.Join(parts, "\n")
	if lines := strings.Split(out, "\n"); m.height > 0 && len(lines) > m.height {
		out = strings.Join(lines[:m.height], "\n")
	}
	return out
}

// box frames a panel to a total width of w columns.
func (m dashModel) box(content string, w int) string {
	return m.st.box.Width(w).Render(content)
}

func (m dashModel) header(w int) string {
	name := m.phase.Name
	if name == "" {
		name = "starting"
	}
	line := m.st.title.Render("loadstar ▸ "+name) + "  " + m.phase.Title
	if m.phase.Load != "" {
		line += m.st.muted.Render("  · " + m.phase.Load)
	}
	return lipgloss.NewStyle().MaxWidth(w).Render(line)
}

func (m dashModel) progressLine(w int) string {
	s := m.snap
	info := fmt.Sprintf(" %d done", s.Done)
	if m.phase.Total > 0 {
		info = fmt.Sprintf(" %d/%d", s.Done, m.phase.Total)
	}
	frac := m.progress()
	if frac >= 0 {
		info += fmt.Sprintf(" (%.0f%%)", 100*frac)
	}
	info += "  elapsed " + s.Elapsed.Round(100*time.Millisecond).String()
	if eta, ok := m.eta(); ok && !m.phaseDone {
		info += "  ETA " + eta.Round(100*time.Millisecond).String()
	}
	barW := max(10, w-lipgloss.Width(info)-2)
	return m.bar(frac, barW) + info
}

// bar draws a progress bar; an unknown fraction shows a moving block.
func (m dashModel) bar(frac float64, w int) string {
	if frac < 0 {
		pos := int(m.snap.Elapsed/(250*time.Millisecond)) % w
		return m.st.muted.Render(strings.Repeat("░", pos)) + m.st.accent.Render("█") + m.st.muted.Render(strings.Repeat("░", w-pos-1))
	}
	full := int(math.Round(frac * float64(w)))
	return m.st.accent.Render(strings.Repeat("█", full)) + m.st.muted.Render(strings.Repeat("░", w-full))
}

func (m dashModel) requestsPanel() string {
	s := m.snap
	errs := fmt.Sprintf("%d", s.Errors)
	if s.Done > 0 {
		errs += fmt.Sprintf(" (%.1f%%)", 100*float64(s.Errors)/float64(s.Done))
	}
	errStyle := m.st.value
	if s.Errors > 0 {
		errStyle = m.st.bad
	}
	rows := [][2]string{{"sent", fmt.Sprint(s.Sent)}, {"in flight", fmt.Sprint(s.InFlight)}, {"completed", fmt.Sprint(s.Done)}}
	out := m.st.title.Render("Requests") + "\n" + m.table(rows)
	out += "\n" + fmt.Sprintf("%-11s %s", "errors", errStyle.Render(errs))
	if len(m.phase.SLOs) > 0 && s.Done > 0 {
		out += "\n" + fmt.Sprintf("%-11s %s", "good", m.st.value.Render(fmt.Sprintf("%d (%.1f%%)", s.Good, 100*float64(s.Good)/float64(s.Done))))
	}
	return out
}

func (m dashModel) table(rows [][2]string) string {
	var b strings.Builder
	for i, r := range rows {
		if i > 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "%-11s %s", r[0], m.st.value.Render(r[1]))
	}
	return b.String()
}

func (m dashModel) throughputPanel() string {
	s := m.snap
	avgReq, avgTok := 0.0, 0.0
	if s.Elapsed > 0 {
		avgReq, avgTok = float64(s.Done)/s.Elapsed.Seconds(), s.OutputTokens/s.Elapsed.Seconds()
	}
	line := func(label string, now, avg float64, unit string, hist []float64) string {
		return fmt.Sprintf("%-9s %s %s  %s\n%9s %s", label, m.st.value.Render(fmt.Sprintf("%8.1f", now)), unit,
			m.st.muted.Render(fmt.Sprintf("avg %.1f", avg)), "", m.st.accent.Render(sparkline(hist, 36)))
	}
	return m.st.title.Render("Throughput") + m.st.muted.Render(" (last 2 s)") + "\n" +
		line("requests", recent(m.reqRate), avgReq, "req/s", m.reqRate) + "\n" +
		line("tokens", recent(m.tokRate), avgTok, "tok/s", m.tokRate)
}

// latencyRows are the live percentile rows: tag and label.
var latencyRows = [][2]string{
	{"time_to_first_token", "TTFT"}, {"inter_token_latency", "ITL"}, {"request_latency", "Request"},
}

func (m dashModel) latencyPanel() string {
	var b strings.Builder
	b.WriteString(m.st.title.Render("Latency (ms)") + m.st.muted.Render(fmt.Sprintf("%13s %9s %9s", "p50", "p90", "p99")))
	for _, r := range latencyRows {
		st := m.stats(r[0])
		fmt.Fprintf(&b, "\n%-13s", r[1])
		for _, q := range []string{"p50", "p90", "p99"} {
			v := math.NaN()
			if st != nil {
				v, _ = st.Get(q)
			}
			b.WriteString(m.st.value.Render(fmt.Sprintf("%9s", num(v))) + " ")
		}
	}
	return b.String()
}

func (m dashModel) stats(tag string) *results.Stats {
	if m.detail == nil {
		return nil
	}
	for i := range m.detail.Metrics {
		if mt := &m.detail.Metrics[i]; mt.Tag == tag {
			return mt.Stats
		}
	}
	return nil
}

func (m dashModel) schedulePanel() string {
	var b strings.Builder
	b.WriteString(m.st.title.Render("Schedule"))
	id := m.stats("issue_delay")
	limit := m.phase.Validity.MaxIssueDelayP99
	if id != nil {
		fmt.Fprintf(&b, "\n%-13s p50 %s  p99 %s", "issue delay", m.st.value.Render(num(id.P50)+" ms"), m.st.value.Render(num(id.P99)+" ms"))
	} else {
		fmt.Fprintf(&b, "\n%-13s %s", "issue delay", m.st.muted.Render("N/A"))
	}
	if m.phase.Rate <= 0 {
		fmt.Fprintf(&b, "\n%-13s %s", "status", m.st.muted.Render("closed loop: sends when a request finishes"))
		return b.String()
	}
	achieved := 0.0
	if m.snap.Elapsed > 0 {
		achieved = float64(m.snap.Sent) / m.snap.Elapsed.Seconds()
	}
	fmt.Fprintf(&b, "\n%-13s %s of %s req/s", "issue rate", m.st.value.Render(fmt.Sprintf("%.2f", achieved)), fmt.Sprintf("%.2f", m.phase.Rate))
	late := id != nil && limit > 0 && id.P99 > float64(limit)/1e6
	short := m.snap.Elapsed > 2*time.Second && m.phase.Validity.MaxRateShortfallPct > 0 &&
		100*(1-achieved/m.phase.Rate) > 5*m.phase.Validity.MaxRateShortfallPct
	switch {
	case late:
		fmt.Fprintf(&b, "\n%-13s %s", "status", m.st.bad.Render("✗ late: p99 delay > "+limit.String()))
	case short:
		fmt.Fprintf(&b, "\n%-13s %s", "status", m.st.bad.Render("✗ behind the schedule"))
	default:
		fmt.Fprintf(&b, "\n%-13s %s", "status", m.st.good.Render("✓ on schedule"))
	}
	return b.String()
}

// maxErrorRows bounds the error breakdown.
const maxErrorRows = 5

func (m dashModel) errorsPanel() string {
	var b strings.Builder
	b.WriteString(m.st.title.Render("Errors"))
	if m.detail == nil || len(m.detail.Errors) == 0 {
		b.WriteString("\n" + m.st.muted.Render("none"))
		return b.String()
	}
	for i, g := range m.detail.Errors {
		if i == maxErrorRows {
			fmt.Fprintf(&b, "\n%s", m.st.muted.Render(fmt.Sprintf("… %d more kinds", len(m.detail.Errors)-i)))
			break
		}
		kind := g.Details.Type
		if g.Details.Code != 0 {
			kind = fmt.Sprintf("%d %s", g.Details.Code, kind)
		}
		msg := g.Details.Message
		if len(msg) > 40 {
			msg = msg[:39] + "…"
		}
		fmt.Fprintf(&b, "\n%s %s %s", m.st.bad.Render(fmt.Sprintf("%6d", g.Count)), kind, m.st.muted.Render(msg))
	}
	return b.String()
}

func (m dashModel) checksPanel() string {
	var b strings.Builder
	b.WriteString(m.st.title.Render("SLOs and thresholds"))
	if len(m.phase.SLOs) == 0 && len(m.phase.Thresholds) == 0 {
		b.WriteString("\n" + m.st.muted.Render("none set"))
		return b.String()
	}
	for _, s := range m.phase.SLOs {
		b.WriteString("\n" + m.sloLine(s))
	}
	live := &results.Summary{}
	if m.detail != nil {
		live.Metrics = m.detail.Metrics
	}
	for _, t := range m.phase.Thresholds {
		label := fmt.Sprintf("%s %s", t.Metric, t.Expr)
		if live.Metric(t.Metric) == nil {
			b.WriteString("\n" + m.st.muted.Render("· "+label+"  (not measured yet)"))
			continue
		}
		r := results.EvaluateThreshold(live, t)
		b.WriteString("\n" + m.mark(r.Passed) + " " + label + m.st.muted.Render("  now "+num(r.Actual)))
	}
	return b.String()
}

// sloLine checks an SLO live on the tail: ✓ when 99 % of the requests so
// far meet it (the p99, or the p1 of a larger-is-better metric).
func (m dashModel) sloLine(s config.SLO) string {
	def, _ := metrics.Lookup(s.Metric)
	scale := def.Scale
	if scale == 0 {
		scale = 1
	}
	objective := s.Threshold * scale
	name := def.ShortHeader
	if name == "" {
		name = s.Metric
	}
	op := map[string]string{"<=": "≤", ">=": "≥"}[s.Op]
	label := fmt.Sprintf("SLO %s %s %s %s", name, op, num(objective), def.Unit)
	st := m.stats(s.Metric)
	if st == nil {
		return m.st.muted.Render("· " + label + "  (not measured yet)")
	}
	tail, which := st.P99, "p99"
	if s.Op == ">=" {
		tail, which = st.P1, "p1"
	}
	ok := tail <= objective
	if s.Op == ">=" {
		ok = tail >= objective
	}
	return m.mark(ok) + " " + label + m.st.muted.Render(fmt.Sprintf("  %s %s", which, num(tail)))
}

func (m dashModel) mark(ok bool) string {
	if ok {
		return m.st.good.Render("✓")
	}
	return m.st.bad.Render("✗")
}

func (m dashModel) footer() string {
	switch {
	case m.stopping:
		return m.st.bad.Render(" stopping: no new requests; the ones in flight are cancelled and the results written (ctrl+c again exits at once)")
	case m.phaseDone:
		return m.st.muted.Render(" " + m.phase.Name + " done")
	}
	return m.st.muted.Render(" ctrl+c stops the run; everything measured so far is kept")
}

// sparkline draws the last w values scaled to their maximum.
func sparkline(xs []float64, w int) string {
	if len(xs) > w {
		xs = xs[len(xs)-w:]
	}
	top := 0.0
	for _, x := range xs {
		top = math.Max(top, x)
	}
	ticks := []rune("▁▂▃▄▅▆▇█")
	var b strings.Builder
	for _, x := range xs {
		i := 0
		if top > 0 {
			i = int(math.Round(x / top * float64(len(ticks)-1)))
		}
		b.WriteRune(ticks[i])
	}
	return b.String()
}

// recentUpdates is how many updates the current throughput averages: two
// seconds, so that a quiet quarter second does not read as zero.
const recentUpdates = 8

func recent(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	xs = xs[max(0, len(xs)-recentUpdates):]
	sum := 0.0
	for _, x := range xs {
		sum += x
	}
	return sum / float64(len(xs))
}

// num formats a live value: N/A when unknown, three significant figures.
func num(v float64) string {
	switch {
	case math.IsNaN(v):
		return "N/A"
	case math.IsInf(v, 0):
		return "inf"
	case math.Abs(v) >= 1000:
		return fmt.Sprintf("%.0f", v)
	case math.Abs(v) >= 100:
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.2f", v)
}
