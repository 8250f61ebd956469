// Package compare says what changed between two benchmark runs: every
// headline metric side by side with the change in percent, whether the
// change is larger than run-to-run noise, and which user-given limits it
// crosses (`loadstar compare BASE NEW --threshold time_to_first_token.p99=+5%`,
// compare() in scripts).
//
// Noise is judged from the data: with several trials on both sides, a Welch
// t-test of the statistic's trial values; otherwise a Mann–Whitney U test of
// the statistic over consecutive batches of requests of each run (batch
// means and batch percentiles: requests in flight together are not
// independent, batches nearly are); with too few requests for batches, the
// same test over single requests (avg) or the overlap of the quantiles'
// confidence intervals (percentiles). A change is
// significant when the test finds a difference at level Alpha and the change
// is at least MinChange: a tiny shift that a large sample makes
// "significant" is still noise to a server team.
// Single-value metrics (throughputs) of single runs have no distribution;
// their significance is unknown.
//
//	base, _ := compare.Open("artifacts/v1")
//	next, _ := compare.Open("artifacts/v2")
//	rep, err := compare.Compare(base, next, compare.Options{Limits: limits})
//	rep.WriteText(os.Stdout)
//	if len(rep.Crossed()) > 0 { ... }
package compare

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/loadstar/loadstar/engine/results"
	"github.com/loadstar/loadstar/internal/metrics"
	"github.com/loadstar/loadstar/internal/resultsdir"
)

// Side is one side of a comparison: a run, or the trials of one
// configuration.
type Side struct {
	Name string
	Dir  string
	Runs []*resultsdir.Run
}

// Open reads a side from a run directory, or from a directory holding the
// trials of one configuration (a sweep step with repeat, a one-step sweep).
func Open(dir string) (*Side, error) {
	runs, sw, err := resultsdir.Scan(dir)
	if err != nil {
		return nil, err
	}
	if sw != nil && len(sw.Steps) > 1 {
		return nil, fmt.Errorf("%s: a sweep of %d steps; compare takes one configuration (give a step's directory, e.g. %s/%s)",
			dir, len(sw.Steps), dir, sw.Steps[0].Name)
	}
	return &Side{Name: dir, Dir: dir, Runs: runs}, nil
}

// Options tune a comparison.
type Options struct {
	// Alpha is the significance level of the tests (default 0.05).
	Alpha float64
	// MinChange is the smallest relative change counted as significant
	// (0: the default 0.02, i.e. 2 %; negative: no minimum).
	MinChange float64
	// Limits are the changes that fail the comparison.
	Limits []Limit
}

// Defaults of Options.
const (
	DefaultAlpha     = 0.05
	DefaultMinChange = 0.02
)

// Row is one metric statistic compared.
type Row struct {
	Tag, Stat, Header, Unit string
	Base, New               float64
	// ChangePct is 100·(New−Base)/Base (NaN when Base is 0 or missing).
	ChangePct float64
	// Test names the test that judged the change against noise (TestWelch,
	// TestBatches, TestRequests, TestQuantileCI), "" when none applies; P is its
	// p-value (NaN for TestQuantileCI and without a test).
	Test string
	P    float64
	// Significant: the test finds a difference at level Alpha and the
	// change is at least MinChange. Unknown when Test is "".
	Significant bool
	// RawP is the test's p-value before the adjustment for the number of
	// tests (P is adjusted, Holm–Bonferroni over the report's rows).
	RawP float64
	// Better is +1 when the change is an improvement, −1 a regression, 0 none.
	Better int
	// Limit is the limit on this statistic, Crossed whether it is crossed.
	Limit   *Limit
	Crossed bool

	changed bool // the change is at least MinChange
}

// Tests that judge a change against noise.
const (
	// TestWelch: Welch's t-test of the statistic's values over the trials
	// (both sides have several).
	TestWelch = "welch"
	// TestBatches: Mann–Whitney U test of the statistic over consecutive
	// batches of requests (batch means, batch percentiles). Requests in
	// flight together share the machine's and the server's state, so single
	// requests are not independent; batches are close to it, and their
	// spread includes the slow drift within a run.
	TestBatches = "batches"
	// TestRequests: too few requests for batches: Mann–Whitney U test of
	// the per-request values (avg).
	TestRequests = "requests"
	// TestQuantileCI: too few requests for batches of a percentile:
	// the per-request quantile's distribution-free confidence intervals do
	// not overlap.
	TestQuantileCI = "quantile-ci"
)

// Tested reports whether the row's significance is known.
func (r Row) Tested() bool { return r.Test != "" }

// Report is a comparison.
type Report struct {
	Base, New *Side
	Options   Options
	Rows      []Row
	// Notes explain what could not be compared.
	Notes []string
}

// Crossed returns the rows whose limit is crossed.
func (r *Report) Crossed() []Row {
	var out []Row
	for _, row := range r.Rows {
		if row.Crossed {
			out = append(out, row)
		}
	}
	return out
}

// SignificantChanges returns the rows that changed beyond noise.
func (r *Report) SignificantChanges() []Row {
	var out []Row
	for _, row := range r.Rows {
		if row.Significant {
			out = append(out, row)
		}
	}
	return out
}

// headlineStats are the statistics compared for each per-request metric.
var headlineStats = []string{"avg", "p50", "p99"}

// Compare compares new against base.
func Compare(base, next *Side, opt Options) (*Report, error) {
	if len(base.Runs) == 0 || len(next.Runs) == 0 {
		return nil, fmt.Errorf("compare: a side has no run")
	}
	if opt.Alpha <= 0 {
		opt.Alpha = DefaultAlpha
	}
	switch {
	case opt.MinChange == 0:
		opt.MinChange = DefaultMinChange
	case opt.MinChange < 0: // no minimum
		opt.MinChange = 0
	}
	rep := &Report{Base: base, New: next, Options: opt}
	c := &comparer{rep: rep, samples: map[string][2][]float64{}}
	seen := map[string]bool{}
	for _, m := range headline(base.Runs[0].Summary) {
		stats := []string{"value"}
		if m.Stats != nil {
			stats = headlineStats
		}
		for _, st := range stats {
			if row, ok := c.row(m.Tag, st); ok {
				rep.Rows = append(rep.Rows, row)
				seen[m.Tag+"."+st] = true
			}
		}
	}
	rep.holm()
	for i := range opt.Limits {
		l := &opt.Limits[i]
		key := l.Tag + "." + l.Stat
		if !seen[key] {
			row, ok := c.row(l.Tag, l.Stat)
			if !ok {
				rep.Notes = append(rep.Notes, fmt.Sprintf("limit %s: %s is missing from a run", l, key))
				continue
			}
			rep.Rows = append(rep.Rows, row)
			seen[key] = true
			rep.holm()
		}
		for j := range rep.Rows {
			if r := &rep.Rows[j]; r.Tag == l.Tag && r.Stat == l.Stat {
				r.Limit = l
				r.Crossed = l.CrossedBy(*r)
			}
		}
	}
	return rep, nil
}

// holm adjusts the p-values of the rows for the number of tests made
// (Holm–Bonferroni: the family-wise error stays at Alpha, so that "no
// significant change" over thirty rows is not wrong one time in ten) and
// decides their significance again.
func (r *Report) holm() {
	var idx []int
	for i, row := range r.Rows {
		if !math.IsNaN(row.RawP) {
			idx = append(idx, i)
		}
	}
	sort.Slice(idx, func(a, b int) bool { return r.Rows[idx[a]].RawP < r.Rows[idx[b]].RawP })
	m, running := len(idx), 0.0
	for k, i := range idx {
		row := &r.Rows[i]
		running = math.Max(running, math.Min(1, float64(m-k)*row.RawP))
		row.P = running
		row.Significant = row.P < r.Options.Alpha && row.changed
	}
}

// headline are the metrics of the console's main table (AIPerf's default
// rows) with the error rate, in display order.
func headline(s *results.Summary) []results.Metric {
	var out []results.Metric
	for _, m := range s.Metrics {
		if m.DisplayOrder > 0 && m.Group != metrics.GroupLoadstar && m.Tag != "request_count" && !strings.HasPrefix(m.Tag, "adj_") {
			out = append(out, m)
		}
	}
	sortByDisplayOrder(out)
	if m := s.Metric("request_error_rate"); m != nil {
		out = append(out, *m)
	}
	return out
}

func sortByDisplayOrder(ms []results.Metric) {
	for i := 1; i < len(ms); i++ {
		for j := i; j > 0 && ms[j].DisplayOrder < ms[j-1].DisplayOrder; j-- {
			ms[j], ms[j-1] = ms[j-1], ms[j]
		}
	}
}

// comparer builds rows, reading per-request samples once per metric.
type comparer struct {
	rep     *Report
	samples map[string][2][]float64
}

func (c *comparer) row(tag, stat string) (Row, bool) {
	b, okB := sideValues(c.rep.Base, tag, stat)
	n, okN := sideValues(c.rep.New, tag, stat)
	if !okB || !okN {
		return Row{}, false
	}
	m := c.rep.Base.Runs[0].Summary.Metric(tag)
	r := Row{Tag: tag, Stat: stat, Header: m.Header, Unit: m.Unit, Base: mean(b), New: mean(n), P: math.NaN(), RawP: math.NaN()}
	r.ChangePct = math.NaN()
	if r.Base != 0 && !math.IsNaN(r.Base) && !math.IsInf(r.Base, 0) {
		r.ChangePct = 100 * (r.New - r.Base) / math.Abs(r.Base)
	}
	changed := !math.IsNaN(r.ChangePct) && math.Abs(r.ChangePct) >= 100*c.rep.Options.MinChange ||
		r.Base == 0 && r.New != 0
	r.changed = changed
	alpha := c.rep.Options.Alpha
	switch {
	case len(b) >= 2 && len(n) >= 2:
		r.Test, r.P = TestWelch, Welch(b, n)
		r.Significant = r.P < alpha && changed
	case m.Stats != nil:
		sb, sn, ok := c.requestSamples(tag)
		if !ok {
			break
		}
		stat, ok := batchStatistic(stat)
		if !ok {
			break
		}
		q, isQuantile := quantileOf(r.Stat)
		k := min(batchCount(len(sb), q), batchCount(len(sn), q))
		if k >= minBatches {
			r.Test, r.P = TestBatches, MannWhitney(Batches(sb, k, stat), Batches(sn, k, stat))
			r.Significant = r.P < alpha && changed
		} else if isQuantile {
			sortedB, sortedN := sortedCopy(sb), sortedCopy(sn)
			if !bounded(sortedB, q, alpha) || !bounded(sortedN, q, alpha) {
				c.note(fmt.Sprintf("%s: too few requests (%d and %d) to tell its noise; a limit on a %s is judged by the change alone",
					r.Stat, len(sb), len(sn), r.Stat))
				break
			}
			r.Test = TestQuantileCI
			r.Significant = QuantilesDiffer(sortedB, sortedN, q, alpha) && changed
		} else {
			r.Test, r.P = TestRequests, MannWhitney(sb, sn)
			r.Significant = r.P < alpha && changed
		}
	}
	if r.Test != TestQuantileCI && math.IsNaN(r.P) {
		r.Test = ""
	}
	r.RawP = r.P
	if r.New != r.Base {
		r.Better = -1
		if (r.New > r.Base) == largerIsBetter(tag) {
			r.Better = 1
		}
	}
	return r, true
}

// bounded reports whether a sorted sample bounds its q-quantile's
// confidence interval on both sides.
func bounded(sorted []float64, q, alpha float64) bool {
	lo, hi := QuantileCI(sorted, q, alpha)
	return !math.IsInf(lo, 0) && !math.IsInf(hi, 0)
}

// note adds a note once.
func (c *comparer) note(n string) {
	for _, have := range c.rep.Notes {
		if have == n {
			return
		}
	}
	c.rep.Notes = append(c.rep.Notes, n)
}

// quantileOf reads "p99" as 0.99.
func quantileOf(stat string) (float64, bool) {
	if len(stat) < 2 || stat[0] != 'p' {
		return 0, false
	}
	v, err := strconv.ParseFloat(stat[1:], 64)
	if err != nil || v <= 0 || v >= 100 {
		return 0, false
	}
	return v / 100, true
}

// requestSamples returns the successful requests' values of tag on both
// sides (every run of a side pooled, in file order); ok is false without
// records.
func (c *comparer) requestSamples(tag string) ([]float64, []float64, bool) {
	if s, ok := c.samples[tag]; ok {
		return s[0], s[1], s[0] != nil && s[1] != nil
	}
	var out [2][]float64
	for i, side := range []*Side{c.rep.Base, c.rep.New} {
		for _, run := range side.Runs {
			if !run.HasRecords() {
				out[i] = nil
				break
			}
			recs, err := run.Records(tag)
			if err != nil {
				c.rep.Notes = append(c.rep.Notes, err.Error())
				out[i] = nil
				break
			}
			out[i] = append(out[i], recs.Valid(tag)...)
		}
		if len(out[i]) == 0 {
			out[i] = nil
		}
	}
	c.samples[tag] = out
	return out[0], out[1], out[0] != nil && out[1] != nil
}

// sideValues returns tag.stat of each run of a side.
func sideValues(s *Side, tag, stat string) ([]float64, bool) {
	var out []float64
	for _, r := range s.Runs {
		m := r.Summary.Metric(tag)
		if m == nil {
			return nil, false
		}
		v := m.Value
		if m.Stats != nil {
			var ok bool
			if v, ok = m.Stats.Get(stat); !ok {
				return nil, false
			}
		}
		out = append(out, v)
	}
	return out, len(out) > 0
}

func mean(xs []float64) float64 {
	s := 0.0
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}

func largerIsBetter(tag string) bool {
	d, ok := metrics.Lookup(tag)
	if ok {
		return d.Flags.Has(metrics.LargerIsBetter) || strings.Contains(d.Unit, "/sec") && d.Tag != "request_error_rate"
	}
	return strings.Contains(tag, "throughput") || tag == "goodput"
}
