package servermetrics

import (
	"fmt"
	"math"
	"strings"

	"github.com/loadstar/loadstar/engine/results"
)

// DefaultTolerancePct is how far a client figure may differ from the
// server's before the reconciliation flags it.
const DefaultTolerancePct = 5.0

// Reconcile compares the client's results with the server's own figures:
// token counts against the server's counters, request counts, and TTFT,
// inter-token and request latency against the server's histograms. A
// check is flagged when the two differ by more than tolerancePct (0 means
// DefaultTolerancePct); a percentile is flagged only when the client's
// value lies outside the server bucket that holds the estimate, widened by
// the tolerance, since a histogram knows no better. Checks whose client or
// server figure is missing are left out.
func Reconcile(client *results.Summary, sm *results.ServerMetrics, tolerancePct float64) []results.ReconcileCheck {
	if client == nil || sm == nil {
		return nil
	}
	if tolerancePct <= 0 {
		tolerancePct = DefaultTolerancePct
	}
	r := reconciler{c: client, sm: sm, tol: tolerancePct}
	r.tokens("output_tokens", "generation_tokens", "total_usage_completion_tokens", "total_osl")
	r.tokens("prompt_tokens", "prompt_tokens", "total_usage_prompt_tokens", "total_isl")
	r.requests()
	for _, l := range []struct{ check, client, figure string }{
		{"time_to_first_token", "time_to_first_token", "time_to_first_token"},
		{"inter_token_latency", "inter_token_latency", "inter_token_latency"},
		{"request_latency", "request_latency", "request_latency"},
	} {
		r.latency(l.check, l.client, l.figure)
	}
	return r.out
}

type reconciler struct {
	c   *results.Summary
	sm  *results.ServerMetrics
	tol float64
	out []results.ReconcileCheck
}

func (r *reconciler) value(tag string) (float64, bool) {
	m := r.c.Metric(tag)
	if m == nil {
		return 0, false
	}
	if m.Stats != nil {
		return m.Stats.Sum, true
	}
	return m.Value, true
}

func (r *reconciler) add(c results.ReconcileCheck) {
	c.TolerancePct = r.tol
	c.DiffPct = results.DiffPct(c.Client, c.Server)
	c.OK = !math.IsNaN(c.DiffPct) && math.Abs(c.DiffPct) <= r.tol
	r.out = append(r.out, c)
}

// tokens compares a token total: the server's usage as the client received
// it when the responses carried usage, else the client tokenizer's count.
func (r *reconciler) tokens(check, figure, usageTag, clientTag string) {
	f := r.sm.Figure(figure)
	if f == nil {
		return
	}
	src := usageTag
	v, ok := r.value(usageTag)
	if !ok || v == 0 {
		src = clientTag
		if v, ok = r.value(clientTag); !ok {
			return
		}
	}
	c := results.ReconcileCheck{Name: check, Client: v, Server: f.Value, Unit: "tokens", Source: f.Source}
	var notes []string
	if src == clientTag {
		notes = append(notes, "client count from "+clientTag+" (tokenizer), not usage")
	}
	if n := r.count("error_request_count"); n > 0 {
		notes = append(notes, fmt.Sprintf("%.0f failed requests count on the server only", n))
	}
	if check == "prompt_tokens" && f.Server == "llamacpp" {
		notes = append(notes, "llama.cpp leaves prompt tokens reused from its cache out of its counter")
	}
	c.Note = strings.Join(notes, "; ")
	r.add(c)
}

func (r *reconciler) count(tag string) float64 {
	v, _ := r.value(tag)
	return v
}

// requests compares requests finished: every request the client completed
// (valid or failed with an answer) against the server's count.
func (r *reconciler) requests() {
	f := r.sm.Figure("requests_completed")
	n, ok := r.value("request_count")
	if f == nil || !ok {
		return
	}
	c := results.ReconcileCheck{Name: "requests", Client: n, Server: f.Value, Unit: "requests", Source: f.Source}
	if e := r.count("error_request_count"); e > 0 {
		c.Note = fmt.Sprintf("client count is valid requests; %.0f failed", e)
	}
	r.add(c)
}

// latency compares the averages (exact on both sides) and the p50 and p99
// (the server's are estimates from its buckets).
func (r *reconciler) latency(check, clientTag, figure string) {
	f := r.sm.Figure(figure)
	m := r.c.Metric(clientTag)
	if f == nil || f.Stats == nil || m == nil || m.Stats == nil || f.Stats.Count == 0 || m.Stats.Count == 0 {
		return
	}
	unit := m.Unit
	scale := 1.0 // server figures are in ms
	switch unit {
	case "sec", "s":
		scale = 1e-3
	case "us":
		scale = 1e3
	case "ns":
		scale = 1e6
	}
	note := ""
	if check == "inter_token_latency" {
		note = "client: per-request mean gap; server: every gap"
	}
	r.add(results.ReconcileCheck{Name: check + "_avg", Client: m.Stats.Avg, Server: f.Stats.Avg * scale, Unit: unit, Source: f.Source, Note: note})
	buckets := r.bucketsOf(f)
	for _, p := range []struct {
		suffix string
		client float64
		server float64
		q      float64
	}{{"_p50", m.Stats.P50, f.Stats.P50, 0.5}, {"_p99", m.Stats.P99, f.Stats.P99, 0.99}} {
		if math.IsNaN(p.server) || buckets == nil {
			continue
		}
		c := results.ReconcileCheck{Name: check + p.suffix, Client: p.client, Server: p.server * scale, Unit: unit, Source: f.Source,
			TolerancePct: r.tol, DiffPct: results.DiffPct(p.client, p.server*scale)}
		lo, hi := bucketAround(buckets, p.server/1000)
		lo, hi = lo*1000*scale*(1-r.tol/100), hi*1000*scale*(1+r.tol/100)
		c.OK = p.client >= lo && p.client <= hi
		c.Note = fmt.Sprintf("server estimate within its bucket %s–%s %s", trim(lo), trim(hi), unit)
		r.out = append(r.out, c)
	}
}

// bucketsOf returns the merged window buckets behind a distribution figure
// (in the source's unit, seconds).
func (r *reconciler) bucketsOf(f *results.ServerFigure) []results.Bucket {
	fam := r.sm.Family(f.Source)
	if fam == nil || len(fam.Series) == 0 || fam.Series[0].Histogram == nil {
		return nil
	}
	out := append([]results.Bucket(nil), fam.Series[0].Histogram.Buckets...)
	for _, s := range fam.Series[1:] {
		if s.Histogram == nil || len(s.Histogram.Buckets) != len(out) {
			continue
		}
		for i := range out {
			out[i].Count += s.Histogram.Buckets[i].Count
		}
	}
	return out
}

// bucketAround returns the bounds of the bucket holding x: from the bound
// below (0 for the lowest bucket) to its own; up to +Inf when x is the top
// finite bound and observations went beyond it.
func bucketAround(bs []results.Bucket, x float64) (float64, float64) {
	lo := 0.0
	for i, b := range bs {
		if x <= b.Le {
			if n := len(bs); i == n-2 && x == b.Le && bs[n-1].Count > b.Count {
				return lo, math.Inf(1)
			}
			return lo, b.Le
		}
		lo = b.Le
	}
	return lo, math.Inf(1)
}

func trim(x float64) string {
	if math.IsInf(x, 1) {
		return "∞"
	}
	return strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.3f", x), "0"), ".")
}
