package plugin

import (
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"time"

	"github.com/loadstar/loadstar/engine/dist"
	"github.com/loadstar/loadstar/engine/errext"
	"github.com/loadstar/loadstar/engine/ordered"
	"github.com/loadstar/loadstar/engine/redact"
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
//
// Params are the one source of each parameter's default: Build fills in
// Param.Default for an absent argument before New runs, so New reads every
// parameter with the Args getters and never repeats a default:
//
//	&plugin.Class{
//		Params: []plugin.Param{{Name: "smoothness", Type: plugin.TFloat, Default: 1.0, Doc: "..."}},
//		New:    func(a plugin.Args) (any, error) { return NewGamma(a.Float("smoothness")) },
//	}
type Class struct {
	Params []Param
	// New builds an implementation from complete arguments (see Build). The
	// result must implement the category's protocol interface. Call Build,
	// not New: New sees only arguments Build has checked and completed.
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

// Defaults returns the declared defaults: one argument per parameter that
// has a Default. Passing them explicitly builds what no arguments build.
func (c *Class) Defaults() Args {
	out := Args{}
	for _, p := range c.Params {
		if p.Default != nil {
			out[p.Name] = p.Default
		}
	}
	return out
}

// WithoutDefaults returns the arguments of complete args that have a value
// other than their parameter's Default: the shortest call building the same
// thing, for printing.
func (c *Class) WithoutDefaults(args Args) Args {
	out := Args{}
	for k, v := range args {
		if v == nil {
			continue
		}
		if p, ok := c.Param(k); ok && p.Default != nil && reflect.DeepEqual(v, p.Default) {
			continue
		}
		out[k] = v
	}
	return out
}

// Build checks args against the declared parameters (CheckArgs), completes
// them — every declared parameter present: the given value, else its
// Default, else nil — and calls New. label names the plugin in errors, e.g.
// "endpoint.chat"; New's errors are prefixed with it unless they already
// start with it. Argument errors carry exit code InvalidConfig, as do New's
// errors unless they carry their own.
func (c *Class) Build(label string, args Args) (v any, err error) {
	if err := c.CheckArgs(label, args); err != nil {
		return nil, errext.WithExitCode(err, errext.InvalidConfig)
	}
	full := make(Args, len(c.Params))
	for _, p := range c.Params {
		switch given, ok := args[p.Name]; {
		case ok && given != nil:
			full[p.Name] = given
		case p.Default != nil:
			if err := p.CheckValue(p.Default); err != nil {
				return nil, fmt.Errorf("%s: the plugin's default of %s is wrong: %w", label, p.Name, err)
			}
			full[p.Name] = p.Default
		default:
			full[p.Name] = nil
		}
	}
	// A getter asked for an undeclared parameter, or with the wrong type, is
	// a bug in the plugin: report it as an error naming the plugin.
	defer func() {
		if r := recover(); r != nil {
			bug, ok := r.(argumentBug)
			if !ok {
				panic(r)
			}
			v, err = nil, fmt.Errorf("%s: %s (a bug in the plugin)", label, string(bug))
		}
	}()
	v, err = c.New(full)
	if err != nil {
		if !strings.HasPrefix(err.Error(), label+": ") {
			err = fmt.Errorf("%s: %w", label, err)
		}
		var coded interface{ ExitCode() errext.ExitCode }
		if errors.As(err, &coded) {
			return nil, err
		}
		return nil, errext.WithExitCode(err, errext.InvalidConfig)
	}
	return v, nil
}

// Args are constructor arguments keyed by parameter name, with the Go types
// listed on ParamType. A Spec holds the arguments as given (absent = not
// given). New receives them complete from Class.Build: every declared
// parameter is present, with its given value, else its Default, else nil.
//
// The getters read complete Args: an absent parameter without a default
// reads as the type's zero value (nil for Dist, Strings, Dict, List, Spec
// and Func). Reading a name that is not declared, or with a getter of
// another type, is a bug in the plugin, which Build reports as an error.
type Args map[string]any

// argumentBug is what the getters panic with and Build recovers.
type argumentBug string

// get returns the value of the declared parameter name (nil if absent).
func (a Args) get(name string) any {
	v, ok := a[name]
	if !ok {
		panic(argumentBug(fmt.Sprintf("parameter %q is read but not declared", name)))
	}
	return v
}

func wrongType(name, want string, v any) argumentBug {
	return argumentBug(fmt.Sprintf("parameter %q is read as %s but holds %T", name, want, v))
}

// Has reports whether name has a value: given, or a default.
func (a Args) Has(name string) bool { return a[name] != nil }

// String returns a string parameter ("" when it has no value); a Secret's
// value is revealed.
func (a Args) String(name string) string {
	switch v := a.get(name).(type) {
	case nil:
		return ""
	case string:
		return v
	case Secret:
		return v.Reveal()
	default:
		panic(wrongType(name, "a string", v))
	}
}

// Int returns an int parameter (0 when it has no value).
func (a Args) Int(name string) int64 {
	switch v := a.get(name).(type) {
	case nil:
		return 0
	case int64:
		return v
	case int:
		return int64(v)
	default:
		panic(wrongType(name, "an int", v))
	}
}

// Float returns a float parameter, ints accepted (0 when it has no value).
func (a Args) Float(name string) float64 {
	switch v := a.get(name).(type) {
	case nil:
		return 0
	case float64:
		return v
	case int64:
		return float64(v)
	case int:
		return float64(v)
	default:
		panic(wrongType(name, "a float", v))
	}
}

// Bool returns a bool parameter (false when it has no value).
func (a Args) Bool(name string) bool {
	switch v := a.get(name).(type) {
	case nil:
		return false
	case bool:
		return v
	default:
		panic(wrongType(name, "a bool", v))
	}
}

// Duration returns a duration parameter (0 when it has no value).
func (a Args) Duration(name string) time.Duration {
	switch v := a.get(name).(type) {
	case nil:
		return 0
	case time.Duration:
		return v
	default:
		panic(wrongType(name, "a duration", v))
	}
}

// Dist returns a distribution parameter, a number meaning dist.Fixed (nil
// when it has no value).
func (a Args) Dist(name string) dist.Dist {
	switch v := a.get(name).(type) {
	case nil:
		return nil
	case dist.Dist:
		return v
	case int64:
		return dist.Fixed{V: float64(v)}
	case float64:
		return dist.Fixed{V: v}
	default:
		panic(wrongType(name, "a dist", v))
	}
}

// Strings returns a list-of-strings parameter, a single string meaning a
// one-element list (nil when it has no value).
func (a Args) Strings(name string) []string {
	switch v := a.get(name).(type) {
	case nil:
		return nil
	case []string:
		return v
	case string:
		return []string{v}
	default:
		panic(wrongType(name, "a list of strings", v))
	}
}

// Dict returns a dict parameter (nil when it has no value).
func (a Args) Dict(name string) *ordered.Map {
	switch v := a.get(name).(type) {
	case nil:
		return nil
	case *ordered.Map:
		return v
	default:
		panic(wrongType(name, "a dict", v))
	}
}

// List returns a list parameter (nil when it has no value).
func (a Args) List(name string) []any {
	switch v := a.get(name).(type) {
	case nil:
		return nil
	case []any:
		return v
	default:
		panic(wrongType(name, "a list", v))
	}
}

// Spec returns a nested plugin parameter (nil when it has no value).
func (a Args) Spec(name string) *Spec {
	switch v := a.get(name).(type) {
	case nil:
		return nil
	case *Spec:
		return v
	default:
		panic(wrongType(name, "a plugin", v))
	}
}

// Func returns a callable parameter (nil when it has no value).
func (a Args) Func(name string) Func {
	switch v := a.get(name).(type) {
	case nil:
		return nil
	case Func:
		return v
	default:
		panic(wrongType(name, "a function", v))
	}
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

// IsSecretName reports whether an argument name holds a secret; it is
// redact.IsSecretName, loadstar's one rule (kept here for plugin authors).
func IsSecretName(name string) bool { return redact.IsSecretName(name) }

// Redacted is what secrets are replaced with wherever they could be printed.
const Redacted = redact.Redacted

// FormatValue renders an argument value in Starlark syntax, redacting
// secrets (the rules of package redact: secret-named arguments, secret
// headers in a headers dict or list, secret url_params, URL passwords).
func FormatValue(name string, v any) string {
	return formatValue(name, v, contextOf(name, plainValue))
}

// valueContext says how the strings and keys of an argument are read.
type valueContext int

const (
	plainValue  valueContext = iota
	headerValue              // keys are header names, strings "Name: value" lines
	paramValue               // keys are URL query parameters
)

func contextOf(name string, outer valueContext) valueContext {
	n := strings.ToLower(name)
	switch {
	case strings.Contains(n, "header"):
		return headerValue
	case n == "url_params" || n == "query" || n == "params":
		return paramValue
	}
	return outer
}

func formatValue(name string, v any, ctx valueContext) string {
	if redact.IsSecretName(name) {
		return fmt.Sprintf("%q", Redacted)
	}
	switch x := v.(type) {
	case nil:
		return "None"
	case string:
		switch ctx {
		case headerValue:
			return fmt.Sprintf("%q", redact.HeaderLine(x))
		}
		return fmt.Sprintf("%q", redact.URL(x))
	case Secret:
		return fmt.Sprintf("%q", Redacted)
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
		if len(x) == 1 { // a list-of-strings argument takes a string too
			return formatValue("", x[0], ctx)
		}
		parts := make([]string, len(x))
		for i, s := range x {
			parts[i] = formatValue("", s, ctx)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = formatValue("", e, ctx)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case *ordered.Map:
		parts := make([]string, 0, x.Len())
		for _, k := range x.Keys() {
			e, _ := x.Get(k)
			var val string
			switch {
			case ctx == headerValue && redact.IsSecretHeader(k),
				ctx == paramValue && redact.IsSecretParam(k):
				val = fmt.Sprintf("%q", Redacted)
			case ctx == headerValue:
				if str, ok := e.(string); ok {
					val = fmt.Sprintf("%q", redact.Header(k, str))
					break
				}
				fallthrough
			default:
				val = formatValue(k, e, contextOf(k, ctx))
			}
			parts = append(parts, fmt.Sprintf("%q: %s", k, val))
		}
		return "{" + strings.Join(parts, ", ") + "}"
	case Func:
		return "<function>"
	}
	return fmt.Sprint(v)
}
