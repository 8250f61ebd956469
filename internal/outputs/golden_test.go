package outputs_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/loadstar/loadstar/engine/config"
	"github.com/loadstar/loadstar/engine/dist"
	"github.com/loadstar/loadstar/engine/mock"
	"github.com/loadstar/loadstar/engine/ordered"
	"github.com/loadstar/loadstar/engine/plugin"
	"github.com/loadstar/loadstar/engine/results"
	"github.com/loadstar/loadstar/internal/golden"
	"github.com/loadstar/loadstar/internal/outputs"
)

// goldenRun runs a seeded benchmark against the embedded mock (streaming
// chat, 12 requests after 2 warmup ones, concurrency 2, latencies small but
// never zero so every streaming metric exists) and returns its results.
func goldenRun(t *testing.T) *results.Summary {
	t.Helper()
	if testing.Short() {
		t.Skip("sends traffic to a local mock server")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	srv, err := mock.Start(ctx, mock.Config{}, mock.WithLatency(3*time.Millisecond, time.Millisecond), mock.WithSeed(7))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	reg, err := outputs.NewRegistry()
	if err != nil {
		t.Fatal(err)
	}
	cfg := config.Defaults()
	cfg.Endpoint = &plugin.Spec{Category: plugin.Endpoint, Name: "chat",
		Args: plugin.Args{"url": srv.URL(), "model": "org/mock-model", "streaming": true}}
	cfg.Dataset = &plugin.Spec{Category: plugin.DatasetComposer, Name: "synthetic",
		Args: plugin.Args{"isl": dist.Fixed{V: 24}, "osl": dist.Fixed{V: 8}, "entries": int64(4)}}
	cfg.Timing = &plugin.Spec{Category: plugin.TimingStrategy, Name: "concurrency", Args: plugin.Args{"concurrency": int64(2)}}
	cfg.Stop = config.Stop{Requests: 12}
	cfg.Warmup = &config.Warmup{Stop: config.Stop{Requests: 2}}
	cfg.Seed, cfg.SeedSet = 42, true
	cfg.Output.ArtifactDir = t.TempDir()
	sum, err := outputs.Run(ctx, reg, &cfg, nil, outputs.Config{})
	if err != nil {
		t.Fatal(err)
	}
	return sum
}

// TestArtifactsGolden keeps every file of a run against the mock in step
// with its golden copy in testdata/golden: what a seeded run determines
// (keys and their order, token counts, request counts, units, labels) is
// compared as written; what the clock determines (times, rates, ids,
// timestamps, paths) becomes "<t>", present where the file has a value.
//
//	go test ./internal/outputs -run ArtifactsGolden -update
func TestArtifactsGolden(t *testing.T) {
	sum := goldenRun(t)
	golden.Check(t, filepath.Join("testdata", "golden", "profile_export_aiperf.json"), normaliseJSON(t, readFile(t, sum.Files["json"])))
	golden.Check(t, filepath.Join("testdata", "golden", "profile_export_aiperf.csv"), normaliseCSV(t, readFile(t, sum.Files["csv"])))
	golden.Check(t, filepath.Join("testdata", "golden", "profile_export.jsonl"), normaliseJSONL(t, readFile(t, sum.Files["jsonl"])))
}

// exactUnits are the units whose values a seeded run fixes.
var exactUnits = map[string]bool{"tokens": true, "requests": true, "sessions": true}

// variableBlocks are blocks whose values depend on timing although their
// unit is exact: time-weighted levels, and counts of what the clock decides.
func variableBlock(tag string) bool {
	return strings.HasPrefix(tag, "effective_") || strings.HasPrefix(tag, "active_") ||
		tag == "usage_discrepancy_count" || strings.HasPrefix(tag, "http_req_chunks")
}

const clockMark = "<t>"

func normaliseJSON(t *testing.T, text string) []byte {
	t.Helper()
	var top ordered.Map
	if err := top.UnmarshalJSON([]byte(text)); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	writeNormalised(&b, &top, "", false, false, 0)
	b.WriteByte('\n')
	return []byte(b.String())
}

// writeNormalised writes v indented, replacing what the clock decides. key
// is v's key; exact says whether v's numbers are seeded; forced replaces
// every leaf (v is under a variable key).
func writeNormalised(b *strings.Builder, v any, key string, exact, forced bool, depth int) {
	pad := strings.Repeat("  ", depth)
	forced = forced || variableKey(key)
	switch x := v.(type) {
	case *ordered.Map:
		if key == "files" { // which files a step writes depends on its outputs' setup
			fmt.Fprintf(b, "%q", clockMark)
			return
		}
		if u, ok := x.Get("unit"); ok {
			unit, _ := u.(string)
			exact = exactUnits[unit] && !variableBlock(key)
		} else if variableKey(key) {
			exact = false
		}
		b.WriteString("{\n")
		keys := slices.DeleteFunc(slices.Clone(x.Keys()), timedPresence)
		for i, k := range keys {
			val, _ := x.Get(k)
			fmt.Fprintf(b, "%s  %q: ", pad, k)
			// A distribution's count is the number of requests: seeded.
			seeded := exact || k == "count"
			writeNormalised(b, val, k, seeded && !variableKey(k), forced, depth+1)
			if i < len(keys)-1 {
				b.WriteByte(',')
			}
			b.WriteByte('\n')
		}
		b.WriteString(pad + "}")
	case []any:
		if forced {
			fmt.Fprintf(b, "[%s]", clockMark)
			return
		}
		b.WriteString("[")
		for i, e := range x {
			if i > 0 {
				b.WriteString(", ")
			}
			writeNormalised(b, e, key, exact, forced, depth+1)
		}
		b.WriteString("]")
	case string:
		if forced {
			fmt.Fprintf(b, "%q", clockMark)
			return
		}
		fmt.Fprintf(b, "%q", x)
	case int64:
		if !exact || forced {
			b.WriteString(clockMark)
			return
		}
		b.WriteString(strconv.FormatInt(x, 10))
	case float64:
		if !exact || forced {
			b.WriteString(clockMark)
			return
		}
		b.WriteString(pyFloat(x))
	default:
		if forced {
			b.WriteString(clockMark)
			return
		}
		fmt.Fprintf(b, "%v", x)
	}
}

// timedPresence reports whether the clock decides if a metric exists at
// all: 1/ITL is absent for a stream that arrived in one network read (ITL
// 0), which a busy machine makes happen now and then.
func timedPresence(tag string) bool {
	return tag == "output_token_throughput_per_user" || tag == "full_response_output_token_throughput_per_user" ||
		tag == "Output Token Throughput Per User (tokens/sec/user)" ||
		tag == "Full-Response Output Token Throughput Per User (tokens/sec/user)"
}

// variableKey names the fields whose value a run's clock, machine or
// paths decide.
func variableKey(k string) bool {
	switch k {
	case "benchmark_id", "start_time", "end_time", "url", "artifact_dir", "files", "version", "aiperf_version",
		"cli_command", "warnings", "client_health", "notes", "schedule", "reasons", "limits", "verdict",
		"x_request_id", "x_correlation_id", "conversation_id", "credit_issued_ns", "request_start_ns",
		"request_ack_ns", "request_end_ns", "result_warnings":
		return true
	}
	return false
}

// pyFloat writes a float with its point, as the files do (50.0).
func pyFloat(f float64) string {
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.ContainsAny(s, ".eE") && !math.IsInf(f, 0) {
		s += ".0"
	}
	return s
}

func normaliseCSV(t *testing.T, text string) []byte {
	t.Helper()
	var out strings.Builder
	for _, section := range strings.Split(text, "\r\n\r\n") {
		r := csv.NewReader(strings.NewReader(section))
		r.FieldsPerRecord = -1
		rows, err := r.ReadAll()
		if err != nil {
			t.Fatalf("CSV: %v\n%s", err, text)
		}
		for i, row := range rows {
			if timedPresence(row[0]) {
				continue
			}
			if i > 0 && !exactLabel(row[0]) {
				for k := 1; k < len(row); k++ {
					if row[k] != "" {
						row[k] = clockMark
					}
				}
			}
			out.WriteString(strings.Join(row, ",") + "\n")
		}
		out.WriteString("\n")
	}
	return []byte(out.String())
}

// exactLabel reports whether a CSV row's values are seeded: token and
// request counts (labels ending in "(tokens)", or counts without a unit).
func exactLabel(label string) bool {
	switch {
	case strings.HasPrefix(label, "Effective") || strings.HasPrefix(label, "Active") || strings.HasPrefix(label, "Usage Discrepancy") ||
		strings.HasPrefix(label, "HTTP Chunks"):
		return false
	case strings.HasSuffix(label, "(tokens)") || strings.HasSuffix(label, "(sessions)"):
		return true
	}
	return !strings.Contains(label, "(")
}

func normaliseJSONL(t *testing.T, text string) []byte {
	t.Helper()
	type line struct {
		key  string
		text string
	}
	var lines []line
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var m ordered.Map
		if err := m.UnmarshalJSON(sc.Bytes()); err != nil {
			t.Fatalf("JSONL line: %v\n%s", err, sc.Text())
		}
		var b strings.Builder
		writeJSONLNormalised(&b, &m)
		md, _ := m.Get("metadata")
		meta := md.(*ordered.Map)
		phase, _ := meta.Get("benchmark_phase")
		sess, _ := meta.Get("session_num")
		lines = append(lines, line{fmt.Sprintf("%v/%08d", phase, sess), b.String()})
	}
	// Records finish in the order the clock decides: sort by phase and
	// session number.
	sort.SliceStable(lines, func(i, j int) bool { return lines[i].key < lines[j].key })
	var out bytes.Buffer
	for _, l := range lines {
		out.WriteString(l.text + "\n")
	}
	return out.Bytes()
}

// writeJSONLNormalised writes one record compactly: metadata ids and
// timestamps and every time-valued metric become "<t>".
func writeJSONLNormalised(b *strings.Builder, m *ordered.Map) {
	b.WriteByte('{')
	for i, k := range m.Keys() {
		if i > 0 {
			b.WriteByte(',')
		}
		v, _ := m.Get(k)
		fmt.Fprintf(b, "%q:", k)
		switch k {
		case "metadata":
			writeFlat(b, v.(*ordered.Map), func(key string, unit string) bool { return !variableKey(key) })
		case "metrics", "loadstar":
			b.WriteByte('{')
			mm := v.(*ordered.Map)
			n := 0
			for _, tag := range mm.Keys() {
				if timedPresence(tag) {
					continue
				}
				if n > 0 {
					b.WriteByte(',')
				}
				n++
				mv, _ := mm.Get(tag)
				blk := mv.(*ordered.Map)
				u, _ := blk.Get("unit")
				unit, _ := u.(string)
				fmt.Fprintf(b, "%q:", tag)
				writeFlat(b, blk, func(key string, _ string) bool { return key == "unit" || exactUnits[unit] && !variableBlock(tag) })
			}
			b.WriteByte('}')
		default:
			writeFlat(b, v.(*ordered.Map), func(string, string) bool { return true })
		}
	}
	b.WriteByte('}')
}

func writeFlat(b *strings.Builder, m *ordered.Map, keep func(key, unit string) bool) {
	b.WriteByte('{')
	for i, k := range m.Keys() {
		if i > 0 {
			b.WriteByte(',')
		}
		v, _ := m.Get(k)
		fmt.Fprintf(b, "%q:", k)
		switch x := v.(type) {
		case string:
			if keep(k, "") {
				fmt.Fprintf(b, "%q", x)
			} else {
				fmt.Fprintf(b, "%q", clockMark)
			}
		case int64:
			if keep(k, "") {
				b.WriteString(strconv.FormatInt(x, 10))
			} else {
				b.WriteString(clockMark)
			}
		case float64:
			if keep(k, "") {
				b.WriteString(pyFloat(x))
			} else {
				b.WriteString(clockMark)
			}
		default:
			fmt.Fprintf(b, "%v", x)
		}
	}
	b.WriteByte('}')
}
