package outputs_test

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/loadstar/loadstar/engine/ordered"
	"github.com/loadstar/loadstar/internal/metrics"
)

// field is one line of testdata/aiperf-schema-1.5.txt.
type field struct {
	name, typ string
	required  bool
}

// schema is AIPerf's field list by section, in AIPerf's order.
type schema map[string][]field

func loadSchema(t *testing.T) schema {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "aiperf-schema-1.5.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s := schema{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		parts := strings.Fields(line)
		fd := field{name: parts[1]}
		if len(parts) > 2 {
			fd.typ = parts[2]
		}
		fd.required = len(parts) > 3 && parts[3] == "required"
		s[parts[0]] = append(s[parts[0]], fd)
	}
	return s
}

func (s schema) find(section, name string) (field, int, bool) {
	for i, f := range s[section] {
		if f.name == name {
			return f, i, true
		}
	}
	return field{}, -1, false
}

// typeOf names a decoded JSON value's type in the schema's words.
func typeOf(v any) string {
	switch x := v.(type) {
	case string:
		return "string"
	case bool:
		return "bool"
	case int64:
		return "int"
	case float64:
		_ = x
		return "number"
	case *ordered.Map:
		return "object"
	case []any:
		return "array"
	}
	return "null"
}

func typeMatches(want string, v any) bool {
	got := typeOf(v)
	for _, w := range strings.Split(want, "|") {
		if w == got || w == "any" || w == "number" && got == "int" {
			return true
		}
	}
	return false
}

// checkObject validates an object against a section: every key known (to
// the section or to extra), of the listed type, in AIPerf's relative
// order, and every required field present.
func (s schema) checkObject(t *testing.T, where, section string, obj *ordered.Map, extra func(string, any) bool) {
	t.Helper()
	last := -1
	for _, k := range obj.Keys() {
		v, _ := obj.Get(k)
		f, idx, ok := s.find(section, k)
		if !ok {
			if extra == nil || !extra(k, v) {
				t.Errorf("%s: field %q is not in AIPerf's %s fields", where, k, section)
			}
			continue
		}
		if !typeMatches(f.typ, v) {
			t.Errorf("%s.%s: %s, AIPerf's schema says %s", where, k, typeOf(v), f.typ)
		}
		if idx < last {
			t.Errorf("%s.%s: out of AIPerf's field order", where, k)
		}
		last = idx
	}
	for _, f := range s[section] {
		if _, ok := obj.Get(f.name); f.required && !ok {
			t.Errorf("%s: required field %q missing", where, f.name)
		}
	}
}

// TestArtifactsFollowAIPerfSchema parses each file of a run against the
// mock with AIPerf's field list (testdata/aiperf-schema-1.5.txt, copied
// from AIPerf's schema document and models with its source).
func TestArtifactsFollowAIPerfSchema(t *testing.T) {
	sum := goldenRun(t) // its files live as long as this test's temporary directory
	s := loadSchema(t)
	t.Run("json", func(t *testing.T) { checkSummaryFile(t, s, readFile(t, sum.Files["json"])) })
	t.Run("jsonl", func(t *testing.T) { checkRecordsFile(t, s, readFile(t, sum.Files["jsonl"])) })
	t.Run("csv", func(t *testing.T) {
		text := readFile(t, sum.Files["csv"])
		sections := strings.Split(strings.TrimSuffix(text, "\r\n"), "\r\n\r\n")
		if len(sections) != 2 || !strings.HasPrefix(sections[0], s["csv_header"][0].name+"\r\n") ||
			!strings.HasPrefix(sections[1], s["csv_single_header"][0].name+"\r\n") {
			t.Errorf("CSV sections do not start with AIPerf's headers:\n%s", text)
		}
	})
}

func checkSummaryFile(t *testing.T, s schema, text string) {
	var top ordered.Map
	if err := top.UnmarshalJSON([]byte(text)); err != nil {
		t.Fatal(err)
	}
	metricBlock := func(where string, v any) {
		obj, ok := v.(*ordered.Map)
		if !ok {
			t.Errorf("%s: not a metric block", where)
			return
		}
		s.checkObject(t, where, "metric", obj, nil)
	}
	isMetric := func(k string) bool { _, ok := metrics.Lookup(k); return ok }
	s.checkObject(t, "profile_export_aiperf.json", "top", &top, func(k string, v any) bool {
		if f, _, ok := s.find("loadstar_top", k); ok {
			if !typeMatches(f.typ, v) {
				t.Errorf("%s: %s, want %s", k, typeOf(v), f.typ)
			}
			return true
		}
		if isMetric(k) {
			metricBlock(k, v)
			return true
		}
		return false
	})
	for _, f := range s["loadstar_top"] {
		if _, ok := top.Get(f.name); f.required && !ok {
			t.Errorf("loadstar field %q missing", f.name)
		}
	}
	if v, _ := top.Get("schema_version"); v != "1.5" {
		t.Errorf("schema_version %v", v)
	}
	ri, _ := top.Get("run_info")
	s.checkObject(t, "run_info", "run_info", ri.(*ordered.Map), nil)
	wm, _ := top.Get("warmup_metrics")
	for _, k := range wm.(*ordered.Map).Keys() {
		v, _ := wm.(*ordered.Map).Get(k)
		if !isMetric(k) {
			t.Errorf("warmup_metrics.%s is not a metric", k)
		}
		metricBlock("warmup_metrics."+k, v)
	}
	es, _ := top.Get("error_summary")
	for i, e := range es.([]any) {
		obj := e.(*ordered.Map)
		s.checkObject(t, "error_summary", "error_summary", obj, nil)
		d, _ := obj.Get("error_details")
		s.checkObject(t, "error_details", "error_details", d.(*ordered.Map), nil)
		_ = i
	}
}

func checkRecordsFile(t *testing.T, s schema, text string) {
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(nil, 1<<20)
	n := 0
	for sc.Scan() {
		n++
		var rec ordered.Map
		if err := rec.UnmarshalJSON(sc.Bytes()); err != nil {
			t.Fatalf("line %d: %v", n, err)
		}
		s.checkObject(t, "record", "record", &rec, func(k string, v any) bool {
			_, _, ok := s.find("loadstar_record", k)
			return ok
		})
		md, _ := rec.Get("metadata")
		s.checkObject(t, "metadata", "metadata", md.(*ordered.Map), nil)
		ms, _ := rec.Get("metrics")
		for _, tag := range ms.(*ordered.Map).Keys() {
			if _, ok := metrics.Lookup(tag); !ok {
				t.Errorf("line %d: metric %q unknown", n, tag)
			}
			mv, _ := ms.(*ordered.Map).Get(tag)
			s.checkObject(t, "metrics."+tag, "metric_value", mv.(*ordered.Map), nil)
		}
		if e, ok := rec.Get("error"); ok {
			s.checkObject(t, "error", "error_details", e.(*ordered.Map), nil)
		}
		// No null anywhere: AIPerf's encoder leaves unset fields out.
		if strings.Contains(sc.Text(), "null") {
			var raw map[string]json.RawMessage
			_ = json.Unmarshal(sc.Bytes(), &raw)
			t.Errorf("line %d writes null: %s", n, sc.Text())
		}
	}
	if n == 0 {
		t.Error("no records")
	}
	// Every metadata field written is one AIPerf names, in its order.
	order := make([]string, 0, len(s["metadata"]))
	for _, f := range s["metadata"] {
		order = append(order, f.name)
	}
	if !slices.Contains(order, "benchmark_phase") {
		t.Error("schema file lost the metadata fields")
	}
}
