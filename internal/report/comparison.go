package report

import (
	"math"
	"strings"

	"github.com/loadstar/loadstar/internal/plot"
	"github.com/loadstar/loadstar/internal/resultsdir"
)

// comparison is the table of several runs: one row each, the headline
// metrics as columns.
type comparison struct {
	Columns []string
	Rows    []comparisonRow
}

type comparisonRow struct {
	Group, Name, Verdict string
	Cells                []string
	// Best marks the cells holding the column's best value.
	Best []bool
}

// comparisonColumns are the columns: header, tag, statistic, and +1 when
// larger is better (−1 smaller).
var comparisonColumns = []struct {
	Header, Tag, Stat string
	Better            int
}{
	{"Request throughput (req/s)", "request_throughput", "avg", 1},
	{"Output tokens/s", "output_token_throughput", "avg", 1},
	{"Goodput (req/s)", "goodput", "avg", 1},
	{"TTFT p50 (ms)", "time_to_first_token", "p50", -1},
	{"TTFT p99 (ms)", "time_to_first_token", "p99", -1},
	{"ITL p50 (ms)", "inter_token_latency", "p50", -1},
	{"Latency p50 (ms)", "request_latency", "p50", -1},
	{"Latency p99 (ms)", "request_latency", "p99", -1},
	{"Tokens/s per user", "output_token_throughput_per_user", "avg", 1},
	{"Error rate (%)", "request_error_rate", "avg", -1},
}

func compareRuns(in *plot.Input) *comparison {
	c := &comparison{}
	for _, col := range comparisonColumns {
		c.Columns = append(c.Columns, col.Header)
	}
	best := make([]float64, len(comparisonColumns))
	for i := range best {
		best[i] = math.NaN()
	}
	var values [][]float64
	for _, g := range in.Groups {
		for _, r := range g.Runs {
			row := comparisonRow{Group: g.Name, Name: r.Name, Verdict: verdictOf(r)}
			vals := make([]float64, len(comparisonColumns))
			for i, col := range comparisonColumns {
				v, ok := plot.MetricValue(r, col.Tag, col.Stat)
				if !ok {
					v = math.NaN()
				}
				vals[i] = v
				row.Cells = append(row.Cells, formatNumber(v))
				if !math.IsNaN(v) && (math.IsNaN(best[i]) || float64(col.Better)*(v-best[i]) > 0) {
					best[i] = v
				}
			}
			values = append(values, vals)
			c.Rows = append(c.Rows, row)
		}
	}
	for ri := range c.Rows {
		c.Rows[ri].Best = make([]bool, len(comparisonColumns))
		for i, v := range values[ri] {
			c.Rows[ri].Best[i] = len(c.Rows) > 1 && !math.IsNaN(v) && v == best[i]
		}
	}
	return c
}

// verdictOf is VALID or INVALID for loadstar's files, "" for files without
// a verdict (AIPerf's).
func verdictOf(r *resultsdir.Run) string {
	switch {
	case !strings.HasPrefix(r.Producer, "loadstar"):
		return ""
	case r.Summary.Verdict.Valid:
		return "VALID"
	}
	return "INVALID"
}
