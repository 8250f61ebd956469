package servermetrics

import (
	"bytes"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/loadstar/loadstar/engine/results"
)

// Family is one parsed metric family of a scrape.
type Family struct {
	// Name is the family's name as AIPerf exports it: a counter's "_total"
	// suffix is dropped (vllm:generation_tokens_total → vllm:generation_tokens).
	Name string
	// Exposed is the name in the exposition (the "# TYPE" line).
	Exposed string
	Type    string // results.TypeGauge, TypeCounter, TypeHistogram, TypeUnknown
	Help    string
	Series  []Series
}

// Series is one label set of a family in a scrape.
type Series struct {
	Labels []results.Label // sorted by name; "le" is not among them
	// Value is a gauge's, counter's or untyped metric's value.
	Value float64
	// Histograms: cumulative buckets (sorted, +Inf last), sum and count.
	Buckets []results.Bucket
	Sum     float64
	Count   float64
}

// Snapshot is one parsed scrape.
type Snapshot struct {
	Families []Family // sorted by name
}

// Parse reads a Prometheus text exposition (format 0.0.4). Counter names
// lose their "_total" suffix, "_created" companions of counters and
// histograms are dropped, summaries are dropped (their quantiles cover the
// server's whole lifetime, not the run, as AIPerf notes), and untyped
// families become TypeUnknown. Any syntax error fails the whole scrape.
func Parse(body []byte) (*Snapshot, error) {
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("not Prometheus text format: %w", err)
	}
	snap := &Snapshot{Families: make([]Family, 0, len(mfs))}
	for name, mf := range mfs {
		if created(name, mf, mfs) {
			continue
		}
		f, ok := convert(name, mf)
		if ok {
			snap.Families = append(snap.Families, f)
		}
	}
	sort.Slice(snap.Families, func(i, j int) bool { return snap.Families[i].Name < snap.Families[j].Name })
	return snap, nil
}

// created reports whether mf is a "_created" timestamp that Python's client
// emits next to a counter or histogram.
func created(name string, mf *dto.MetricFamily, all map[string]*dto.MetricFamily) bool {
	base, ok := strings.CutSuffix(name, "_created")
	if !ok || (mf.GetType() != dto.MetricType_GAUGE && mf.GetType() != dto.MetricType_UNTYPED) {
		return false
	}
	for _, n := range []string{base, base + "_total"} {
		if o := all[n]; o != nil && (o.GetType() == dto.MetricType_COUNTER || o.GetType() == dto.MetricType_HISTOGRAM) {
			return true
		}
	}
	return false
}

func convert(name string, mf *dto.MetricFamily) (Family, bool) {
	f := Family{Name: name, Exposed: name, Help: mf.GetHelp()}
	switch mf.GetType() {
	case dto.MetricType_COUNTER:
		f.Type = results.TypeCounter
		f.Name = strings.TrimSuffix(name, "_total")
	case dto.MetricType_GAUGE:
		f.Type = results.TypeGauge
	case dto.MetricType_UNTYPED:
		f.Type = results.TypeUnknown
	case dto.MetricType_HISTOGRAM:
		f.Type = results.TypeHistogram
	default: // summaries and gauge histograms
		return f, false
	}
	f.Series = make([]Series, 0, len(mf.GetMetric()))
	for _, m := range mf.GetMetric() {
		s := Series{Labels: labelsOf(m.GetLabel())}
		switch f.Type {
		case results.TypeCounter:
			s.Value = m.GetCounter().GetValue()
		case results.TypeGauge:
			s.Value = m.GetGauge().GetValue()
		case results.TypeUnknown:
			s.Value = m.GetUntyped().GetValue()
		case results.TypeHistogram:
			histogramOf(m.GetHistogram(), &s)
		}
		f.Series = append(f.Series, s)
	}
	return f, true
}

func labelsOf(pairs []*dto.LabelPair) []results.Label {
	if len(pairs) == 0 {
		return nil
	}
	ls := make([]results.Label, len(pairs))
	for i, p := range pairs {
		ls[i] = results.Label{Name: p.GetName(), Value: p.GetValue()}
	}
	sort.Slice(ls, func(i, j int) bool { return ls[i].Name < ls[j].Name })
	return ls
}

func histogramOf(h *dto.Histogram, s *Series) {
	s.Sum = h.GetSampleSum()
	s.Count = h.GetSampleCountFloat()
	if s.Count == 0 {
		s.Count = float64(h.GetSampleCount())
	}
	s.Buckets = make([]results.Bucket, 0, len(h.GetBucket())+1)
	for _, b := range h.GetBucket() {
		c := b.GetCumulativeCountFloat()
		if c == 0 {
			c = float64(b.GetCumulativeCount())
		}
		s.Buckets = append(s.Buckets, results.Bucket{Le: b.GetUpperBound(), Count: c})
	}
	sort.Slice(s.Buckets, func(i, j int) bool { return s.Buckets[i].Le < s.Buckets[j].Le })
	// The text format's +Inf bucket is parsed as a bucket; add it from the
	// count when an exposition left it out.
	if n := len(s.Buckets); n == 0 || !math.IsInf(s.Buckets[n-1].Le, 1) {
		s.Buckets = append(s.Buckets, results.Bucket{Le: math.Inf(1), Count: s.Count})
	}
}

// Key identifies a series within its family: its labels rendered.
func (s *Series) Key() string { return results.LabelString(s.Labels) }

// FormatLe renders a bucket bound as Python's client writes it (1.0, 0.005,
// +Inf): the keys of AIPerf's bucket maps.
func FormatLe(le float64) string {
	switch {
	case math.IsInf(le, 1):
		return "+Inf"
	case math.IsInf(le, -1):
		return "-Inf"
	case le == math.Trunc(le) && math.Abs(le) < 1e16:
		return strconv.FormatFloat(le, 'f', 1, 64)
	}
	return strconv.FormatFloat(le, 'g', -1, 64)
}
