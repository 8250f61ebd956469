package builtins

import (
	"fmt"
	"math"

	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"

	"github.com/loadstar/loadstar/engine/config"
	"github.com/loadstar/loadstar/engine/results"
	"github.com/loadstar/loadstar/engine/servermetrics"
)

// applyServerMetrics reads run(server_metrics=...): a bool, or a dict of
// urls, interval, formats, gpu and tolerance.
func applyServerMetrics(_ *starlark.Thread, b *config.Benchmark, v starlark.Value) error {
	sm := &b.ServerMetrics
	if x, ok := v.(starlark.Bool); ok {
		sm.Off = !bool(x)
		return nil
	}
	items, err := dictItems(v, "server_metrics (or True/False)")
	if err != nil {
		return err
	}
	urls := func(key string, v starlark.Value) ([]string, error) {
		list, err := stringList(v)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", key, err)
		}
		for i, u := range list {
			if _, err := servermetrics.NormalizeURL(u); err != nil {
				return nil, fmt.Errorf("%s[%d]: %w", key, i, err)
			}
		}
		return list, nil
	}
	for _, kv := range items {
		k, _ := starlark.AsString(kv[0])
		var err error
		switch k {
		case "urls":
			sm.URLs, err = urls(k, kv[1])
		case "interval":
			sm.Interval, err = asDuration(kv[1], "server_metrics.interval")
		case "formats":
			sm.Formats, err = stringList(kv[1])
			if err == nil && sm.Formats == nil {
				sm.Formats = []string{}
			}
		case "gpu":
			if x, ok := kv[1].(starlark.Bool); ok {
				sm.GPUOff = !bool(x)
			} else {
				sm.GPU, err = urls(k, kv[1])
			}
		case "tolerance":
			f, ok := starlark.AsFloat(kv[1])
			if !ok || f < 0 || math.IsNaN(f) {
				err = fmt.Errorf("want a percentage >= 0, got %s", kv[1])
			}
			sm.TolerancePct = f
		default:
			err = fmt.Errorf("unknown key %q (want urls, interval, formats, gpu, tolerance)", k)
		}
		if err != nil {
			return fmt.Errorf("server_metrics.%s: %w", k, err)
		}
	}
	return nil
}

// ServerResult is r.server: the server's figures by name (each a stats
// value, like r.metrics.<tag>), and the details:
//
//	r.server.kv_cache_usage.max        # %, the highest KV-cache usage seen
//	r.server.preemptions.value         # requests preempted during the run
//	r.server.time_to_first_token.p99   # duration, the server's own TTFT
//	r.server.gpus[0].nvidia_power_usage.avg
//	r.server.reconciliation            # [struct(check, client, server, diff_pct, ok, note)]
//	r.server.flagged                   # the reconciliation checks that disagree
type ServerResult struct {
	sm *results.ServerMetrics
}

func (s *ServerResult) String() string {
	return fmt.Sprintf("<server metrics: %d figures>", len(s.sm.Figures))
}
func (s *ServerResult) Type() string         { return "server_metrics" }
func (s *ServerResult) Freeze()              {}
func (s *ServerResult) Truth() starlark.Bool { return starlark.Bool(len(s.sm.Figures) > 0) }
func (s *ServerResult) Hash() (uint32, error) {
	return 0, fmt.Errorf("unhashable type: server_metrics")
}

var serverDetails = []string{"endpoints", "flagged", "gpus", "raw", "reconciliation", "slices", "warnings"}

// AttrNames implements starlark.HasAttrs.
func (s *ServerResult) AttrNames() []string {
	names := append([]string(nil), serverDetails...)
	for _, f := range s.sm.Figures {
		names = append(names, f.Name)
	}
	return names
}

// Attr implements starlark.HasAttrs. A figure the servers did not report is
// an error that lists those they did.
func (s *ServerResult) Attr(name string) (starlark.Value, error) {
	switch name {
	case "reconciliation", "flagged":
		checks := s.sm.Reconciliation
		if name == "flagged" {
			checks = s.sm.Flagged()
		}
		out := make([]starlark.Value, len(checks))
		for i, c := range checks {
			out[i] = starlarkstruct.FromStringDict(starlarkstruct.Default, starlark.StringDict{
				"check": starlark.String(c.Name), "client": starlark.Float(c.Client), "server": starlark.Float(c.Server),
				"unit": starlark.String(c.Unit), "diff_pct": starlark.Float(c.DiffPct), "ok": starlark.Bool(c.OK),
				"tolerance_pct": starlark.Float(c.TolerancePct), "source": starlark.String(c.Source), "note": starlark.String(c.Note),
			})
		}
		return frozenList(out), nil
	case "warnings":
		out := make([]starlark.Value, len(s.sm.Warnings))
		for i, w := range s.sm.Warnings {
			out[i] = starlark.String(w)
		}
		return frozenList(out), nil
	case "endpoints":
		out := make([]starlark.Value, len(s.sm.Endpoints))
		for i, e := range s.sm.Endpoints {
			out[i] = starlarkstruct.FromStringDict(starlarkstruct.Default, starlark.StringDict{
				"url": starlark.String(e.URL), "kind": starlark.String(e.Kind), "ok": starlark.Bool(e.Successful),
				"fetches": starlark.MakeInt(e.TotalFetches), "disabled": starlark.String(e.Disabled),
			})
		}
		return frozenList(out), nil
	case "gpus":
		return s.gpus(), nil
	case "slices":
		return s.slices(), nil
	case "raw":
		return s.raw(), nil
	}
	f := s.sm.Figure(name)
	if f == nil {
		var have []string
		for _, x := range s.sm.Figures {
			have = append(have, x.Name)
		}
		return nil, fmt.Errorf("server figure %q was not reported in this run (reported: %v; docs/server-metrics.md lists where each comes from)", name, have)
	}
	return figureValue(f), nil
}

// figureValue is a figure as r.metrics presents a metric: statistics, or a
// single value, durations for ms.
func figureValue(f *results.ServerFigure) starlark.Value {
	m := f.Metric()
	if m.Stats == nil {
		return &Stats{stats: &results.Stats{Avg: m.Value, Min: m.Value, Max: m.Value, Count: 1}, unit: m.Unit, tag: m.Tag, single: true}
	}
	return &Stats{stats: m.Stats, unit: m.Unit, tag: m.Tag}
}

func (s *ServerResult) gpus() starlark.Value {
	out := make([]starlark.Value, len(s.sm.GPUs))
	for i := range s.sm.GPUs {
		g := &s.sm.GPUs[i]
		d := starlark.StringDict{"index": starlark.MakeInt(g.Index), "uuid": starlark.String(g.UUID),
			"name": starlark.String(g.Name), "hostname": starlark.String(g.Hostname), "endpoint": starlark.String(g.Endpoint)}
		for j := range g.Metrics {
			m := &g.Metrics[j]
			if m.Counter {
				d[m.Name] = &Stats{stats: &results.Stats{Avg: m.Delta, Min: m.Delta, Max: m.Delta, Count: 1}, unit: m.Unit, tag: m.Name, single: true}
			} else {
				st := m.Stats
				d[m.Name] = &Stats{stats: &st, unit: m.Unit, tag: m.Name}
			}
		}
		out[i] = starlarkstruct.FromStringDict(starlarkstruct.Default, d)
	}
	return frozenList(out)
}

// raw is every scraped family: {name: [struct(endpoint, labels, ...)]}.
func (s *ServerResult) raw() starlark.Value {
	d := starlark.NewDict(len(s.sm.Families))
	for _, f := range s.sm.Families {
		series := make([]starlark.Value, len(f.Series))
		for i, x := range f.Series {
			labels := starlark.NewDict(len(x.Labels))
			for _, l := range x.Labels {
				_ = labels.SetKey(starlark.String(l.Name), starlark.String(l.Value))
			}
			labels.Freeze()
			fields := starlark.StringDict{"endpoint": starlark.String(x.Endpoint), "labels": labels, "type": starlark.String(f.Type)}
			switch {
			case x.Gauge != nil:
				fields["avg"], fields["min"], fields["max"], fields["p50"], fields["p99"] = starlark.Float(x.Gauge.Avg),
					starlark.Float(x.Gauge.Min), starlark.Float(x.Gauge.Max), starlark.Float(x.Gauge.P50), starlark.Float(x.Gauge.P99)
			case x.Counter != nil:
				fields["total"], fields["rate"] = starlark.Float(x.Counter.Total), starlark.Float(x.Counter.Rate)
			case x.Histogram != nil:
				fields["count"], fields["sum"], fields["p50"], fields["p99"] = starlark.Float(x.Histogram.Count),
					starlark.Float(x.Histogram.Sum), starlark.Float(x.Histogram.P50), starlark.Float(x.Histogram.P99)
			}
			series[i] = starlarkstruct.FromStringDict(starlarkstruct.Default, fields)
		}
		_ = d.SetKey(starlark.String(f.Name), frozenList(series))
	}
	d.Freeze()
	return d
}

// serverFigureUnit returns the unit and kind of a "server.<name>" tag.
func serverFigureUnit(tag string) (unit string, kind results.Kind, ok bool) {
	name, found := cutServerPrefix(tag)
	if !found {
		return "", 0, false
	}
	v, ok := servermetrics.LookupView(name)
	if !ok {
		return "", 0, false
	}
	if v.Kind == results.FigureTotal {
		return v.Unit, results.DerivedMetric, true
	}
	return v.Unit, results.RecordMetric, true
}

func cutServerPrefix(tag string) (string, bool) {
	if len(tag) > len(results.ServerPrefix) && tag[:len(results.ServerPrefix)] == results.ServerPrefix {
		return tag[len(results.ServerPrefix):], true
	}
	return "", false
}

// slices is r.server.slices: per time slice (with slice_duration), its
// start and end (seconds from the first slice), whether it is complete, and
// each figure's value there (a gauge's average, a distribution's p99).
func (s *ServerResult) slices() starlark.Value {
	n, first := 0, int64(0)
	for _, f := range s.sm.Figures {
		if len(f.Slices) > n {
			n, first = len(f.Slices), f.Slices[0].StartNs
		}
	}
	out := make([]starlark.Value, n)
	for k := range n {
		d := starlark.StringDict{}
		var start, end int64
		complete := true
		for _, f := range s.sm.Figures {
			if k >= len(f.Slices) {
				continue
			}
			sl := f.Slices[k]
			start, end, complete = sl.StartNs, sl.EndNs, sl.Complete
			v := sl.Value
			if f.Kind == results.FigureDistribution {
				v = sl.P99
			}
			d[f.Name] = unitValue(v, f.Unit)
		}
		d["start"] = starlark.Float(float64(start-first) / 1e9)
		d["end"] = starlark.Float(float64(end-first) / 1e9)
		d["complete"] = starlark.Bool(complete)
		out[k] = starlarkstruct.FromStringDict(starlarkstruct.Default, d)
	}
	return frozenList(out)
}
