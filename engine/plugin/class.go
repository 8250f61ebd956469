package plugin

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/loadstar/loadstar/engine/dist"
	"github.com/loadstar/loadstar/engine/ordered"
)

// Category names a kind of plugin (a section of plugins.yaml).
type Category string

// AIPerf's user-facing plugin categories. Its process and ZMQ categories
// have no meaning in one Go process and are left out.
const (
	Endpoint             Category = "endpoint"
	Transport            Category = "transport"
	TimingStrategy       Category = "timing_strategy"
	ArrivalPattern       Category = "arrival_pattern"
	Ramp                 Category = "ramp"
	DatasetComposer      Category = "dataset_composer"
	CustomDatasetLoader  Category = "custom_dataset_loader"
	DatasetSampler       Category = "dataset_sampler"
	DatasetBackingStore  Category = "dataset_backing_store"
	DatasetClientStore   Category = "dataset_client_store"
	RecordProcessor      Category = "record_processor"
	ResultsProcessor     Category = "results_processor"
	DataExporter         Category = "data_exporter"
	ConsoleExporter      Category = "console_exporter"
	UI                   Category = "ui"
	URLSelectionStrategy Category = "url_selection_strategy"
	Plot                 Category = "plot"
)

// ParamType is the type of a plugin constructor parameter. It decides how a
// Starlark keyword argument (or a profile flag) is converted to Go.
type ParamType uint8

const (
	// TString: string.
	TString ParamType = iota + 1
	// TInt: int64.
	TInt
	// TFloat: float64 (an int is accepted).
	TFloat
	// TBool: bool.
	TBool
	// TDuration: time.Duration; scripts pass "250ms", ms(250) or seconds as a number.
	TDuration
	// TDist: dist.Dist; a plain number means dist.Fixed.
	TDist
	// TStrings: []string; a single string is accepted as a one-element list.
	TStrings
	// TList: []any of JSON-like values.
	TList
	// TDict: *ordered.Map of JSON-like values.
	TDict
	// TSpec: *Spec of the Param's SpecCategory (e.g. arrival=arrival.gamma()).
	TSpec
	// TFunc: Func, a script callable.
	TFunc
	// TAny: any JSON-like value.
	TAny
)

// String names the type as documentation shows it.
func (t ParamType) String() string {
	switch t {
	case TString:
		return "string"
	case TInt:
		return "int"
	case TFloat:
		return "float"
	case TBool:
		return "bool"
	case TDuration:
		return "duration"
	case TDist:
		return "dist"
	case TStrings:
		return "list[string]"
	case TList:
		return "list"
	case TDict:
		return "dict"
	case TSpec:
		return "plugin"
	case TFunc:
		return "function"
	case TAny:
		return "any"
	}
	return "?"
}

// Param declares one constructor parameter of a plugin class.
type Param struct {
	Name string
	Type ParamType
	// SpecCategory is the category a TSpec parameter accepts.
	SpecCategory Category
	// Default is the Go value used when the argument is absent (nil = none).
	Default  any
	Required bool
	Doc      string
	// Choices, when set, lists the accepted values of a TString parameter.
	Choices []string
}

// Func is a script callable handed to Go (e.g. a template function). It is
// safe to call from one goroutine at a time per Func unless documented.
type Func func(args ...any) (any, error)

// Class is a plugin implementation: its parameters and its constructor.
// A Go built-in registers one per `go:` class name; a Starlark plugin gets one
// built from its .star file when first used.
type Class struct {
	Params []Param
	// New builds an implementation from validated arguments. The result must
	// implement the category's protocol interface.
	New func(args Args) (any, error)
}

// Param returns the declared parameter called name.
func (c *Class) Param(name string) (Param, bool) {
	for _, p := range c.Params {
		if p.Name == name {
			return p, true
		}
	}
	return Param{}, false
}

// Args are validated constructor arguments, keyed by parameter name. Values
// have the Go types listed on ParamType. Absent optional arguments are absent
// from the map; use the getters with a default.
type Args map[string]any

// Has reports whether name was given.
func (a Args) Has(name string) bool { _, ok := a[name]; return ok }

// String returns a string argument or def.
func (a Args) String(name, def string) string {
	if v, ok := a[name].(string); ok {
		return v
	}
	return def
}

// Int returns an int argument or def.
func (a Args) Int(name string, def int64) int64 {
	switch v := a[name].(type) {
	case int64:
		return v
	case int:
		return int64(v)
	}
	return def
}

// Float returns a float argument (ints accepted) or def.
func (a Args) Float(name string, def float64) float64 {
	switch v := a[name].(type) {
	case float64:
		return v
	case int64:
		return float64(v)
	case int:
		return float64(v)
	}
	return def
}

// Bool returns a bool argument or def.
func (a Args) Bool(name string, def bool) bool {
	if v, ok := a[name].(bool); ok {
		return v
	}
	return def
}

// Duration returns a duration argument or def.
func (a Args) Duration(name string, def time.Duration) time.Duration {
	if v, ok := a[name].(time.Duration); ok {
		return v
	}
	return def
}

// Dist returns a distribution argument or def.
func (a Args) Dist(name string, def dist.Dist) dist.Dist {
	switch v := a[name].(type) {
	case dist.Dist:
		return v
	case int64:
		return dist.Fixed{V: float64(v)}
	case float64:
		return dist.Fixed{V: v}
	}
	return def
}

// Strings returns a list-of-strings argument or def.
func (a Args) Strings(name string, def []string) []string {
	switch v := a[name].(type) {
	case []string:
		return v
	case string:
		return []string{v}
	}
	return def
}

// Dict returns a dict argument or nil.
func (a Args) Dict(name string) *ordered.Map {
	if v, ok := a[name].(*ordered.Map); ok {
		return v
	}
	return nil
}

// List returns a list argument or nil.
func (a Args) List(name string) []any {
	if v, ok := a[name].([]any); ok {
		return v
	}
	return nil
}

// Spec returns a nested plugin argument or nil.
func (a Args) Spec(name string) *Spec {
	if v, ok := a[name].(*Spec); ok {
		return v
	}
	return nil
}

// Func returns a callable argument or nil.
func (a Args) Func(name string) Func {
	if v, ok := a[name].(Func); ok {
		return v
	}
	return nil
}

// Clone returns a shallow copy of a.
func (a Args) Clone() Args {
	c := make(Args, len(a))
	for k, v := range a {
		c[k] = v
	}
	return c
}

// Spec is a chosen plugin with its arguments: the plan's description of a
// component, printable and comparable, turned into an implementation only
// when the run starts.
type Spec struct {
	Category Category
	Name     string
	Args     Args
}

// String renders the spec as the Starlark call that builds it, with
// arguments sorted by name, e.g. `arrival.gamma(smoothness=2)`. Secret
// arguments (any name containing "key", "token" or "secret", and headers)
// are redacted.
func (s *Spec) String() string {
	if s == nil {
		return "None"
	}
	names := make([]string, 0, len(s.Args))
	for k := range s.Args {
		names = append(names, k)
	}
	sort.Strings(names)
	parts := make([]string, len(names))
	for i, k := range names {
		parts[i] = k + "=" + FormatValue(k, s.Args[k])
	}
	return fmt.Sprintf("%s.%s(%s)", Namespace(s.Category), s.Name, strings.Join(parts, ", "))
}

// Namespace returns the Starlark namespace of a category (e.g. `arrival` for
// arrival_pattern). Categories without a short name use their own name.
func Namespace(c Category) string {
	switch c {
	case ArrivalPattern:
		return "arrival"
	case TimingStrategy:
		return "timing"
	case DatasetComposer:
		return "dataset"
	case CustomDatasetLoader:
		return "loader"
	case DatasetSampler:
		return "sampler"
	case URLSelectionStrategy:
		return "url_selection"
	case DataExporter:
		return "exporter"
	case ConsoleExporter:
		return "console"
	}
	return string(c)
}

// IsSecretName reports whether an argument or header name holds a secret:
// api keys, authorization headers, passwords, secrets, bearer and access
// tokens — but not token counts (max_tokens) or metric names
// (time_to_first_token).
func IsSecretName(name string) bool {
	n := strings.ToLower(strings.ReplaceAll(name, "-", "_"))
	switch {
	case strings.Contains(n, "key") && !strings.Contains(n, "keepalive"),
		strings.Contains(n, "secret"), strings.Contains(n, "authorization"),
		strings.Contains(n, "password"), strings.Contains(n, "credential"),
		strings.Contains(n, "bearer"), n == "token":
		return true
	}
	for _, p := range []string{"access", "auth", "api", "hf", "refresh", "session", "id", "bearer", "oauth", "github", "gitlab"} {
		if n == p+"_token" || strings.HasSuffix(n, "_"+p+"_token") {
			return true
		}
	}
	return false
}

// Redacted is what secrets are replaced with wherever they could be printed.
const Redacted = "<redacted>"

// FormatValue renders an argument value in Starlark syntax, redacting secrets.
func FormatValue(name string, v any) string {
	if IsSecretName(name) {
		return fmt.Sprintf("%q", Redacted)
	}
	switch x := v.(type) {
	case nil:
		return "None"
	case string:
		return fmt.Sprintf("%q", x)
	case bool:
		if x {
			return "True"
		}
		return "False"
	case time.Duration:
		return fmt.Sprintf("%q", x.String())
	case *Spec:
		return x.String()
	case dist.Dist:
		return x.String()
	case []string:
		parts := make([]string, len(x))
		for i, s := range x {
			parts[i] = fmt.Sprintf("%q", s)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = FormatValue("", e)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case *ordered.Map:
		parts := make([]string, 0, x.Len())
		for _, k := range x.Keys() {
			e, _ := x.Get(k)
			parts = append(parts, fmt.Sprintf("%q: %s", k, FormatValue(k, e)))
		}
		return "{" + strings.Join(parts, ", ") + "}"
	case Func:
		return "<function>"
	}
	return fmt.Sprint(v)
}
