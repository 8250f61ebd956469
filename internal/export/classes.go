package export

import (
	"fmt"

	"github.com/loadstar/loadstar/engine/plugin"
)

// Classes returns the data_exporter plugins of this package, keyed by the
// Go name of their manifest class path (go:internal/export.<Key>).
func Classes() map[string]*plugin.Class {
	none := func(mk func() Exporter) *plugin.Class {
		return &plugin.Class{New: func(plugin.Args) (any, error) { return mk(), nil }}
	}
	return map[string]*plugin.Class{
		"JSON":           none(func() Exporter { return JSON{} }),
		"CSV":            none(func() Exporter { return CSV{} }),
		"Raw":            none(func() Exporter { return &Raw{} }),
		"Parquet":        none(func() Exporter { return &Parquet{} }),
		"TimeslicesCSV":  none(func() Exporter { return TimeslicesCSV{} }),
		"TimeslicesJSON": none(func() Exporter { return TimeslicesJSON{} }),
		"Inputs":         none(func() Exporter { return Inputs{} }),
		"JSONL": {
			Params: []plugin.Param{{Name: "per_chunk", Type: plugin.TBool, Default: false,
				Doc: "Include each request's inter-chunk latencies (a list) in its line, as AIPerf's per-chunk export does."}},
			New: func(a plugin.Args) (any, error) { return &JSONL{PerChunk: a.Bool("per_chunk")}, nil },
		},
	}
}

// Builtin is a built-in exporter: its plugin name, class key and when it
// runs without an explicit exporter list.
type Builtin struct {
	Name, Key string
	// Default reports whether the exporter runs by default at an export
	// level ("summary", "records", "raw") with or without time slices.
	Default func(level string, slicing bool) bool
}

// Builtins lists the built-in exporters in the order they run; the JSON
// summary runs last so it can list every other artifact.
func Builtins() []Builtin {
	always := func(string, bool) bool { return true }
	records := func(l string, _ bool) bool { return l == "" || l == "records" || l == "raw" }
	return []Builtin{
		{"inputs", "Inputs", always},
		{"jsonl", "JSONL", records},
		{"raw", "Raw", func(l string, _ bool) bool { return l == "raw" }},
		{"parquet", "Parquet", records},
		{"timeslice_csv", "TimeslicesCSV", func(_ string, s bool) bool { return s }},
		{"timeslice_json", "TimeslicesJSON", func(_ string, s bool) bool { return s }},
		{"csv", "CSV", always},
		{"json", "JSON", always},
	}
}

// New builds a built-in exporter by plugin name with default arguments.
func New(name string) (Exporter, error) {
	for _, b := range Builtins() {
		if b.Name == name {
			v, err := Classes()[b.Key].Build("exporter."+name, nil)
			if err != nil {
				return nil, err
			}
			return v.(Exporter), nil
		}
	}
	var names []string
	for _, b := range Builtins() {
		names = append(names, b.Name)
	}
	return nil, fmt.Errorf("exporter %q: not a built-in data exporter (built-ins: %v)", name, names)
}
