package export

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/loadstar/loadstar/engine/results"
	"github.com/loadstar/loadstar/engine/servermetrics"
)

// serverParquetReserved are the fixed columns; labels with these names are
// left out (as AIPerf does).
var serverParquetReserved = map[string]bool{"endpoint_url": true, "metric_name": true, "metric_type": true, "unit": true,
	"description": true, "timestamp_ns": true, "value": true, "sum": true, "count": true, "bucket_le": true, "bucket_count": true}

// ServerMetricsParquet streams the scrapes of the profiling window to
// server_metrics_export.parquet in AIPerf's normalized layout: one row per
// series per scrape (per bucket for histograms) with endpoint_url,
// metric_name, metric_type, unit, description, timestamp_ns, one column per
// label, then value (a gauge's value, a counter's increase since the last
// scrape before the window), sum, count, bucket_le and bucket_count (a
// histogram's increases). The label columns are those seen before and at
// the first scrape of the window; a label first seen later is left out (a
// warning says so). It is a servermetrics.Sink; Finish writes the file.
type ServerMetricsParquet struct {
	mu        sync.Mutex
	path, tmp string
	f         *os.File
	bw        *bufio.Writer
	w         *parquet.GenericWriter[any]
	cols      map[string]int
	labels    []string
	seenLabel map[string]bool
	ref       map[string]float64 // last value before the window, by endpoint/series/part
	preWindow map[string]bool    // endpoints scraped before the window
	rows      int
	metrics   map[string]string // name → type
	endpoints map[string]bool
	lost      map[string]bool // labels first seen after the schema was fixed
	vals      [][]parquet.Value
}

// OpenServerMetricsParquet prepares the file; nothing is written before the
// first scrape of the window.
func OpenServerMetricsParquet(path string) *ServerMetricsParquet {
	return &ServerMetricsParquet{path: path, seenLabel: map[string]bool{}, ref: map[string]float64{},
		preWindow: map[string]bool{}, metrics: map[string]string{}, endpoints: map[string]bool{}, lost: map[string]bool{}}
}

// Scrape implements servermetrics.Sink.
func (p *ServerMetricsParquet) Scrape(s *servermetrics.Scrape) error {
	if s.Kind != results.EndpointServer {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if s.Frame < 0 {
		if p.w != nil {
			return nil // after the window
		}
		p.preWindow[s.Endpoint] = true
		p.remember(s)
		return nil
	}
	if p.w == nil {
		if err := p.begin(s); err != nil {
			return err
		}
	}
	return p.rowsOf(s)
}

// remember keeps the latest pre-window values (the reference of counters
// and histograms) and the label names seen.
func (p *ServerMetricsParquet) remember(s *servermetrics.Scrape) {
	for _, f := range s.Snapshot.Families {
		for k := range f.Series {
			ser := &f.Series[k]
			for _, l := range ser.Labels {
				p.seenLabel[l.Name] = true
			}
			key := s.Endpoint + "\x00" + f.Name + ser.Key()
			switch f.Type {
			case results.TypeCounter:
				p.ref[key] = ser.Value
			case results.TypeHistogram:
				p.ref[key+"\x00sum"], p.ref[key+"\x00count"] = ser.Sum, ser.Count
				for _, b := range ser.Buckets {
					p.ref[key+"\x00"+servermetrics.FormatLe(b.Le)] = b.Count
				}
			}
		}
	}
}

// delta is v less the reference of key, never negative (a reset counts from
// zero). A series without a reference started in the window: from zero when
// its endpoint was scraped before, else from its first value.
func (p *ServerMetricsParquet) delta(endpoint, key string, v float64) float64 {
	r, ok := p.ref[key]
	if !ok {
		if p.preWindow[endpoint] {
			r = 0
		} else {
			r = v
		}
		p.ref[key] = r
	}
	if v < r {
		return v
	}
	return v - r
}

func (p *ServerMetricsParquet) begin(s *servermetrics.Scrape) error {
	for _, f := range s.Snapshot.Families {
		for _, ser := range f.Series {
			for _, l := range ser.Labels {
				p.seenLabel[l.Name] = true
			}
		}
	}
	for l := range p.seenLabel {
		if !serverParquetReserved[l] {
			p.labels = append(p.labels, l)
		}
	}
	sort.Strings(p.labels)
	group := parquet.Group{
		"endpoint_url": parquet.String(), "metric_name": parquet.String(), "metric_type": parquet.String(),
		"unit": parquet.Optional(parquet.String()), "description": parquet.Optional(parquet.String()),
		"timestamp_ns": parquet.Int(64), "value": parquet.Optional(parquet.Leaf(parquet.DoubleType)),
		"sum": parquet.Optional(parquet.Leaf(parquet.DoubleType)), "count": parquet.Optional(parquet.Leaf(parquet.DoubleType)),
		"bucket_le": parquet.Optional(parquet.String()), "bucket_count": parquet.Optional(parquet.Leaf(parquet.DoubleType)),
	}
	for _, l := range p.labels {
		group[l] = parquet.Optional(parquet.String())
	}
	schema := parquet.NewSchema("server_metrics", group)
	p.cols = map[string]int{}
	for i, path := range schema.Columns() {
		p.cols[path[0]] = i
	}
	if err := os.MkdirAll(filepath.Dir(p.path), 0o755); err != nil {
		return fmt.Errorf("export: server metrics parquet: %w", err)
	}
	f, err := os.CreateTemp(filepath.Dir(p.path), "."+filepath.Base(p.path)+".*.partial")
	if err != nil {
		return fmt.Errorf("export: server metrics parquet: %w", err)
	}
	p.f, p.tmp = f, f.Name()
	p.bw = bufio.NewWriterSize(f, 1<<20)
	p.w = parquet.NewGenericWriter[any](p.bw, schema, parquet.Compression(&parquet.Snappy),
		parquet.MaxRowsPerRowGroup(parquetRowGroup), parquet.CreatedBy("loadstar", "", ""))
	p.vals = make([][]parquet.Value, len(p.cols))
	return nil
}

// serverRow is one row's values.
type serverRow struct {
	endpoint, name, typ, unit, help string
	ts                              int64
	labels                          []results.Label
	value, sum, count, bucketCount  *float64
	bucketLe                        string
}

func (p *ServerMetricsParquet) rowsOf(s *servermetrics.Scrape) error {
	p.endpoints[s.Endpoint] = true
	var batch []parquet.Row
	for _, f := range s.Snapshot.Families {
		p.metrics[f.Name] = f.Type
		unit := servermetrics.InferUnit(f.Name, f.Help)
		for k := range f.Series {
			ser := &f.Series[k]
			key := s.Endpoint + "\x00" + f.Name + ser.Key()
			r := serverRow{endpoint: s.Endpoint, name: f.Name, typ: f.Type, unit: unit, help: f.Help, ts: s.DoneNs, labels: ser.Labels}
			switch f.Type {
			case results.TypeHistogram:
				sum := p.delta(s.Endpoint, key+"\x00sum", ser.Sum)
				n := p.delta(s.Endpoint, key+"\x00count", ser.Count)
				for _, b := range ser.Buckets {
					le := servermetrics.FormatLe(b.Le)
					c := p.delta(s.Endpoint, key+"\x00"+le, b.Count)
					hr := r
					hr.sum, hr.count, hr.bucketLe, hr.bucketCount = &sum, &n, le, &c
					batch = append(batch, p.row(&hr))
				}
				continue
			case results.TypeCounter:
				v := p.delta(s.Endpoint, key, ser.Value)
				r.value = &v
			default:
				v := ser.Value
				r.value = &v
			}
			batch = append(batch, p.row(&r))
		}
	}
	if _, err := p.w.WriteRows(batch); err != nil {
		return fmt.Errorf("export: server metrics parquet: %w", err)
	}
	p.rows += len(batch)
	return nil
}

func (p *ServerMetricsParquet) row(r *serverRow) parquet.Row {
	vals := p.vals
	for i := range vals {
		vals[i] = vals[i][:0]
	}
	set := func(name string, v parquet.Value, optional bool) {
		i := p.cols[name]
		lvl := 0
		if optional {
			lvl = 1
		}
		vals[i] = append(vals[i], v.Level(0, lvl, i))
	}
	null := func(name string) {
		i := p.cols[name]
		vals[i] = append(vals[i], parquet.NullValue().Level(0, 0, i))
	}
	str := func(name, v string) {
		if v == "" {
			null(name)
		} else {
			set(name, parquet.ByteArrayValue([]byte(v)), true)
		}
	}
	num := func(name string, v *float64) {
		if v == nil {
			null(name)
		} else {
			set(name, parquet.DoubleValue(*v), true)
		}
	}
	set("endpoint_url", parquet.ByteArrayValue([]byte(r.endpoint)), false)
	set("metric_name", parquet.ByteArrayValue([]byte(r.name)), false)
	set("metric_type", parquet.ByteArrayValue([]byte(r.typ)), false)
	str("unit", r.unit)
	str("description", r.help)
	set("timestamp_ns", parquet.Int64Value(r.ts), false)
	have := map[string]string{}
	for _, l := range r.labels {
		have[l.Name] = l.Value
		if _, ok := p.cols[l.Name]; !ok && !serverParquetReserved[l.Name] {
			p.lost[l.Name] = true
		}
	}
	for _, l := range p.labels {
		if v, ok := have[l]; ok {
			set(l, parquet.ByteArrayValue([]byte(v)), true)
		} else {
			null(l)
		}
	}
	num("value", r.value)
	num("sum", r.sum)
	num("count", r.count)
	str("bucket_le", r.bucketLe)
	num("bucket_count", r.bucketCount)
	var row parquet.Row
	for _, v := range vals {
		row = append(row, v...)
	}
	return row
}

// Finish writes the file's metadata (AIPerf's aiperf.* keys) and renames
// it into place. It returns the path, "" when the window had no scrape, and
// notes about labels left out.
func (p *ServerMetricsParquet) Finish(sum *results.Summary) (string, []string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.w == nil {
		return "", nil, nil
	}
	meta := map[string]string{
		"aiperf.schema_version":       ServerMetricsSchemaVersion,
		"aiperf.version":              "loadstar " + or(sum.Version, "dev"),
		"aiperf.benchmark_id":         sum.Info.BenchmarkID,
		"aiperf.exporter":             "loadstar server metrics parquet",
		"aiperf.export_timestamp_utc": time.Now().UTC().Format(time.RFC3339),
		"aiperf.label_count":          strconv.Itoa(len(p.labels)),
		"aiperf.metric_count":         strconv.Itoa(len(p.metrics)),
		"aiperf.endpoint_count":       strconv.Itoa(len(p.endpoints)),
	}
	if sm := sum.Server; sm != nil {
		ws, we := sm.WindowStart.UnixNano(), sm.WindowEnd.UnixNano()
		meta["aiperf.time_filter_start_ns"] = strconv.FormatInt(ws, 10)
		meta["aiperf.time_filter_end_ns"] = strconv.FormatInt(we, 10)
		meta["aiperf.profiling_duration_ns"] = strconv.FormatInt(we-ws, 10)
		meta["aiperf.profiling_duration_seconds"] = strconv.FormatFloat(float64(we-ws)/1e9, 'f', -1, 64)
	}
	jsonMeta := func(v any) string { b, _ := json.Marshal(v); return string(b) }
	var eps []string
	for e := range p.endpoints {
		eps = append(eps, e)
	}
	sort.Strings(eps)
	counts := map[string]int{}
	for _, t := range p.metrics {
		counts[t]++
	}
	meta["aiperf.endpoint_urls"] = jsonMeta(eps)
	meta["aiperf.label_columns"] = jsonMeta(p.labels)
	meta["aiperf.metric_type_counts"] = jsonMeta(counts)
	if sum.Config != nil {
		if b, err := inputConfig(sum.Config).MarshalJSON(); err == nil {
			meta["aiperf.input_config"] = string(b)
		}
	}
	meta["aiperf.schema_note"] = "label columns vary by server: read several files with union_by_name"
	for k, v := range meta {
		p.w.SetKeyValueMetadata(k, v)
	}
	err := p.w.Close()
	if err == nil {
		err = p.bw.Flush()
	}
	if cerr := p.f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(p.tmp, 0o644)
	}
	if err == nil {
		err = os.Rename(p.tmp, p.path)
	}
	p.w = nil
	if err != nil {
		_ = os.Remove(p.tmp)
		return "", nil, fmt.Errorf("export: server metrics parquet: %w", err)
	}
	var notes []string
	for l := range p.lost {
		notes = append(notes, fmt.Sprintf("server metrics parquet: label %q appeared after the first scrape of the window and has no column", l))
	}
	sort.Strings(notes)
	return p.path, notes, nil
}

// Abort drops a partial file.
func (p *ServerMetricsParquet) Abort() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.f != nil {
		_ = p.f.Close()
		_ = os.Remove(p.tmp)
		p.w, p.f = nil, nil
	}
}
