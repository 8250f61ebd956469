package catalog_test

import (
	"fmt"
	"reflect"
	"sort"
	"testing"
	"time"

	"github.com/loadstar/loadstar/engine/catalog"
	"github.com/loadstar/loadstar/engine/dist"
	"github.com/loadstar/loadstar/engine/endpoint"
	"github.com/loadstar/loadstar/engine/plugin"
	"github.com/loadstar/loadstar/internal/outputs"
)

// baseArgs are the arguments a class needs to build at all: a sample for
// each required parameter plus what its constructor asks for beyond them.
func baseArgs(name string, c *plugin.Class) plugin.Args {
	args := plugin.Args{}
	for _, p := range c.Params {
		if p.Required {
			args[p.Name] = sample(p)
		}
	}
	if _, ok := c.Param("model"); ok {
		args["model"] = []string{"m"}
	}
	switch name {
	case "go:engine/endpoint.Template":
		args["body"] = `{"prompt": {{text}}}`
	case "go:engine/dataset.Custom":
		args["records"] = []any{}
	case "go:engine/timing.RequestRate":
		args["rate"] = 10.0
	case "go:engine/timing.RequestRateSeries":
		args["segments"] = []any{[]any{"10s", int64(5)}, []any{"5s", 20.0}}
	}
	return args
}

// companions are arguments a changed parameter needs to be valid.
var companions = map[string]plugin.Args{
	"prefix_prompts": {"prefix_length": int64(4)},
	"prefix_length":  {"prefix_prompts": int64(2)},
}

// ignored reports whether a built component ignores parameter p by
// documented design: streaming=True on an endpoint that cannot stream.
func ignored(p plugin.Param, built any) bool {
	conf, ok := built.(endpoint.Configured)
	return ok && p.Name == "streaming" && !conf.Settings().Metadata.SupportsStreaming
}

// other returns a valid value of p's type that differs from its default.
func other(p plugin.Param) any {
	switch d := p.Default.(type) {
	case bool:
		return !d
	case int64:
		return d + 1
	case float64:
		return d + 1
	case time.Duration:
		return d + time.Second
	case string:
		for _, c := range p.Choices {
			if c != d {
				return c
			}
		}
		return d + "-x"
	case []string:
		return append(append([]string{}, d...), d...)
	case dist.Fixed:
		return dist.Fixed{V: d.V + 1}
	}
	panic(fmt.Sprintf("parameter %s: no other value for a default of type %T", p.Name, p.Default))
}

// TestParamDefaultsAreWhatConstructorsUse checks, for every Go class, that
// Param.Default is the one source of each default: every default has its
// parameter's type; building with no arguments equals building with the
// defaults passed explicitly; and every parameter with a default reaches
// the component (another value builds a different one), so no constructor
// ignores an argument in favour of a value of its own.
func TestParamDefaultsAreWhatConstructorsUse(t *testing.T) {
	classes := catalog.Classes()
	for name, c := range outputs.Classes() { // the binary's other classes
		classes[name] = c
	}
	names := make([]string, 0, len(classes))
	for name := range classes {
		names = append(names, name)
	}
	sort.Strings(names)
	checked := 0
	for _, name := range names {
		c := classes[name]
		t.Run(name, func(t *testing.T) {
			for _, p := range c.Params {
				if p.Default != nil {
					if err := p.CheckValue(p.Default); err != nil {
						t.Errorf("default of %s: %v", p.Name, err)
					}
				}
			}
			base := baseArgs(name, c)
			implicit, err := c.Build(name, base)
			if err != nil {
				t.Fatalf("build without optional arguments: %v", err)
			}
			explicit := c.Defaults()
			for k, v := range base {
				explicit[k] = v
			}
			withDefaults, err := c.Build(name, explicit)
			if err != nil {
				t.Fatalf("build with the defaults given: %v", err)
			}
			if !reflect.DeepEqual(implicit, withDefaults) {
				t.Errorf("defaults given explicitly build %+v, none given %+v", withDefaults, implicit)
			}
			for _, p := range c.Params {
				if p.Default == nil || ignored(p, implicit) {
					continue
				}
				args := plugin.Args{p.Name: other(p)}
				for k, v := range base {
					args[k] = v
				}
				for k, v := range companions[p.Name] {
					args[k] = v
				}
				changed, err := c.Build(name, args)
				if err != nil {
					t.Errorf("%s=%v: %v", p.Name, args[p.Name], err)
					continue
				}
				if reflect.DeepEqual(changed, implicit) {
					t.Errorf("%s=%v builds the same component as its default %v: the constructor does not use it", p.Name, args[p.Name], p.Default)
				}
				checked++
			}
		})
	}
	if checked < 40 {
		t.Errorf("only %d parameters with defaults checked", checked)
	}
}
