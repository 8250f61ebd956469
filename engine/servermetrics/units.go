package servermetrics

import (
	"regexp"
	"strings"
)

// unitSuffixes map metric-name endings to AIPerf's unit names, longest
// first so that "_tokens_total" wins over "_total".
var unitSuffixes = []struct{ suffix, unit string }{
	{"_milliseconds", "milliseconds"}, {"_nanoseconds", "nanoseconds"}, {"_seconds_total", "seconds"},
	{"_error_count_total", "errors"}, {"_requests_total", "requests"}, {"_tokens_total", "tokens"},
	{"_blocks_total", "blocks"}, {"_errors_total", "errors"}, {"_bytes_total", "bytes"},
	{"_error_count", "errors"}, {"_block_count", "blocks"}, {"_kilobytes", "kilobytes"},
	{"_megabytes", "megabytes"}, {"_gigabytes", "gigabytes"}, {"_ms_total", "milliseconds"},
	{"_ns_total", "nanoseconds"}, {"_requests", "requests"}, {"_celsius", "celsius"},
	{"_seconds", "seconds"}, {"_percent", "percent"}, {"_tokens", "tokens"}, {"_errors", "errors"},
	{"_blocks", "blocks"}, {"_joules", "joule"}, {"_watts", "watt"}, {"_bytes", "bytes"},
	{"_total", "count"}, {"_count", "count"}, {"_ratio", "ratio"}, {"_reqs", "requests"},
	{"_perc", "percent"}, {"_gb_s", "gb/s"}, {"_ms", "milliseconds"}, {"_ns", "nanoseconds"},
}

// helpUnits are units stated in help texts ("... in milliseconds",
// "(GB/s)"), which win over the name as in AIPerf.
var helpUnits = []struct {
	re   *regexp.Regexp
	unit string
}{
	{regexp.MustCompile(`(?i)\bin (milli)?seconds\b`), ""}, // resolved below
	{regexp.MustCompile(`(?i)\(GB/s\)`), "gb/s"},
}

// InferUnit infers a metric's unit from its help text, then its name, the
// way AIPerf does for server_metrics_export.json; "" when nothing applies.
// Counters are named without "_total" here, so the name is also tried with
// it.
func InferUnit(name, help string) string {
	if m := helpUnits[0].re.FindStringSubmatch(help); m != nil {
		if m[1] != "" {
			return "milliseconds"
		}
		return "seconds"
	}
	if helpUnits[1].re.MatchString(help) {
		return "gb/s"
	}
	if strings.HasSuffix(name, "request_success") {
		return "requests"
	}
	for _, s := range unitSuffixes {
		if strings.HasSuffix(name, s.suffix) {
			return s.unit
		}
	}
	return ""
}
