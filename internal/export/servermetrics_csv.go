package export

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/loadstar/loadstar/engine/results"
	"github.com/loadstar/loadstar/engine/servermetrics"
)

// csvStatKeys are the statistic columns of each section, in AIPerf's order.
var csvStatKeys = map[string][]string{
	results.TypeGauge:     {"avg", "min", "max", "std", "p1", "p5", "p10", "p25", "p50", "p75", "p90", "p95", "p99"},
	results.TypeCounter:   {"total", "rate", "rate_avg", "rate_min", "rate_max", "rate_std"},
	results.TypeHistogram: {"count", "count_rate", "sum", "sum_rate", "avg", "p1_estimate", "p5_estimate", "p10_estimate", "p25_estimate", "p50_estimate", "p75_estimate", "p90_estimate", "p95_estimate", "p99_estimate"},
	results.TypeUnknown:   {"avg", "min", "max", "std", "p1", "p5", "p10", "p25", "p50", "p75", "p90", "p95", "p99"},
}

// csvRow is one series of the CSV.
type csvRow struct {
	endpoint string
	fam      *results.ServerFamily
	s        *results.ServerSeries
}

func (r csvRow) info() bool { return strings.HasSuffix(r.fam.Name, "_info") }

// ServerMetricsCSV renders the server metrics of sum as AIPerf's
// server_metrics_export.csv: comment lines naming the version and benchmark,
// then one section per metric type (gauge, counter, histogram, unknown),
// each with its statistics, one column per label and the histogram buckets,
// and last the labels of "_info" metrics, one row per label. It returns nil
// when nothing was scraped.
func ServerMetricsCSV(sum *results.Summary) ([]byte, error) {
	sm := sum.Server
	if !hasServerData(sm) {
		return nil, nil
	}
	var buf bytes.Buffer
	buf.WriteString("# AIPerf Server Metrics Export (CSV)\n")
	fmt.Fprintf(&buf, "# aiperf_version: loadstar %s\n", or(sum.Version, "dev"))
	fmt.Fprintf(&buf, "# schema_version: %s\n", ServerMetricsSchemaVersion)
	fmt.Fprintf(&buf, "# benchmark_id: %s\n", sum.Info.BenchmarkID)
	buf.WriteString("# Note: Same benchmark_id and version appear in JSON and Parquet exports\n#\n")
	w := csv.NewWriter(&buf)
	w.UseCRLF = true
	byType := map[string][]csvRow{}
	var infos []csvRow
	for i := range sm.Families {
		f := &sm.Families[i]
		for j := range f.Series {
			r := csvRow{endpoint: servermetrics.Display(f.Series[j].Endpoint), fam: f, s: &f.Series[j]}
			if f.Type == results.TypeGauge && r.info() {
				infos = append(infos, r)
				continue
			}
			byType[f.Type] = append(byType[f.Type], r)
		}
	}
	first := true
	for _, typ := range []string{results.TypeGauge, results.TypeCounter, results.TypeHistogram, results.TypeUnknown} {
		rows := byType[typ]
		if len(rows) == 0 {
			continue
		}
		if !first {
			_ = w.Write(nil)
		}
		first = false
		writeCSVSection(w, typ, rows)
	}
	if len(infos) > 0 {
		if !first {
			_ = w.Write(nil)
		}
		writeInfoSection(w, infos)
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return nil, fmt.Errorf("export: server metrics CSV: %w", err)
	}
	return buf.Bytes(), nil
}

func writeCSVSection(w *csv.Writer, typ string, rows []csvRow) {
	keys := csvStatKeys[typ]
	labels := labelColumnOrder(rows)
	header := append([]string{"Endpoint", "Type", "Metric", "Unit"}, keys...)
	header = append(header, labels...)
	header = append(header, "Description")
	if typ == results.TypeHistogram {
		header = append(header, "buckets")
	}
	_ = w.Write(header)
	type keyed struct {
		pattern, name, endpoint, labels string
		r                               csvRow
	}
	ks := make([]keyed, len(rows))
	for i, r := range rows {
		have := map[string]bool{}
		for _, l := range r.s.Labels {
			have[l.Name] = true
		}
		var p strings.Builder
		for _, c := range labels {
			if have[c] {
				p.WriteByte('1')
			} else {
				p.WriteByte('0')
			}
		}
		ks[i] = keyed{p.String(), r.fam.Name, r.endpoint, pyDictRepr(r.s.Labels), r}
	}
	sort.SliceStable(ks, func(i, j int) bool {
		a, b := ks[i], ks[j]
		if a.pattern != b.pattern {
			return a.pattern < b.pattern
		}
		if a.name != b.name {
			return a.name < b.name
		}
		if a.endpoint != b.endpoint {
			return a.endpoint < b.endpoint
		}
		return a.labels < b.labels
	})
	for _, k := range ks {
		r := k.r
		row := []string{r.endpoint, typ, r.fam.Name, r.fam.Unit}
		stats := map[string]any{}
		for _, kv := range seriesStats(r.s) {
			stats[kv.key] = kv.val
		}
		for _, key := range keys {
			row = append(row, csvStat(stats[key]))
		}
		vals := map[string]string{}
		for _, l := range r.s.Labels {
			vals[l.Name] = l.Value
		}
		for _, c := range labels {
			row = append(row, vals[c])
		}
		row = append(row, r.fam.Help)
		if typ == results.TypeHistogram {
			var parts []string
			for _, b := range r.s.Histogram.Buckets {
				parts = append(parts, servermetrics.FormatLe(b.Le)+"="+csvStat(count(b.Count)))
			}
			row = append(row, strings.Join(parts, ";"))
		}
		_ = w.Write(row)
	}
}

// csvStat formats a statistic as AIPerf's CSV does: integers plainly,
// floats with four decimals, missing values empty.
func csvStat(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case int:
		return strconv.Itoa(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case pyFloat:
		f := float64(x)
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return ""
		}
		return strconv.FormatFloat(f, 'f', 4, 64)
	}
	return fmt.Sprint(v)
}

// writeInfoSection writes the labels of "_info" metrics (configuration,
// not dimensions), one row per label.
func writeInfoSection(w *csv.Writer, rows []csvRow) {
	_ = w.Write([]string{"Endpoint", "Metric", "Key", "Value", "Description"})
	sort.SliceStable(rows, func(i, j int) bool {
		if rows[i].fam.Name != rows[j].fam.Name {
			return rows[i].fam.Name < rows[j].fam.Name
		}
		return rows[i].endpoint < rows[j].endpoint
	})
	for _, r := range rows {
		for _, l := range r.s.Labels { // sorted by name
			_ = w.Write([]string{r.endpoint, r.fam.Name, l.Name, l.Value, r.fam.Help})
		}
	}
}

// labelColumnOrder orders the label columns as AIPerf does: labels that
// occur together form families (union-find), families in order of their
// smallest label, and within a family the labels of one label set only
// before those shared by several ("bridges"), each group sorted.
func labelColumnOrder(rows []csvRow) []string {
	var sets [][]string
	all := map[string]bool{}
	for _, r := range rows {
		if r.info() || len(r.s.Labels) == 0 {
			continue
		}
		var names []string
		for _, l := range r.s.Labels {
			names = append(names, l.Name)
			all[l.Name] = true
		}
		sort.Strings(names)
		sets = append(sets, names)
	}
	if len(all) == 0 {
		return nil
	}
	parent := map[string]string{}
	var find func(string) string
	find = func(x string) string {
		p, ok := parent[x]
		if !ok {
			parent[x] = x
			return x
		}
		if p == x {
			return x
		}
		return find(p)
	}
	for _, s := range sets {
		for i := 1; i < len(s); i++ {
			parent[find(s[i])] = find(s[i-1])
		}
	}
	families := map[string][]string{}
	for l := range all {
		r := find(l)
		families[r] = append(families[r], l)
	}
	uses := map[string]int{}
	for _, s := range sets {
		for _, l := range s {
			uses[l]++
		}
	}
	var fams [][]string
	for _, f := range families {
		sort.Strings(f)
		fams = append(fams, f)
	}
	sort.Slice(fams, func(i, j int) bool { return fams[i][0] < fams[j][0] })
	var out []string
	for _, f := range fams {
		for _, l := range f {
			if uses[l] <= 1 {
				out = append(out, l)
			}
		}
		for _, l := range f {
			if uses[l] > 1 {
				out = append(out, l)
			}
		}
	}
	return out
}

// pyDictRepr renders labels as Python's str() of a dict, the tie-breaker
// of AIPerf's row order.
func pyDictRepr(ls []results.Label) string {
	if len(ls) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteByte('{')
	for i, l := range ls {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "'%s': '%s'", l.Name, l.Value)
	}
	b.WriteByte('}')
	return b.String()
}
