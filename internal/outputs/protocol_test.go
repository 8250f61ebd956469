package outputs_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/loadstar/loadstar/engine/dataset"
	"github.com/loadstar/loadstar/engine/endpoint"
	"github.com/loadstar/loadstar/engine/ordered"
	"github.com/loadstar/loadstar/engine/plugin"
	"github.com/loadstar/loadstar/engine/timing"
	"github.com/loadstar/loadstar/internal/console"
	"github.com/loadstar/loadstar/internal/export"
	"github.com/loadstar/loadstar/internal/metrics"
	"github.com/loadstar/loadstar/internal/outputs"
	"github.com/loadstar/loadstar/internal/plot"
	"github.com/loadstar/loadstar/internal/transport"
	"github.com/loadstar/loadstar/internal/ui"
)

// protocols maps each category's protocol name in categories.yaml to the Go
// interface, so that the two cannot drift apart.
var protocols = map[string]reflect.Type{
	"engine/endpoint.Endpoint":          reflect.TypeFor[endpoint.Endpoint](),
	"internal/transport.Transport":      reflect.TypeFor[transport.Transport](),
	"engine/timing.Strategy":            reflect.TypeFor[timing.Strategy](),
	"engine/timing.ArrivalPattern":      reflect.TypeFor[timing.ArrivalPattern](),
	"engine/timing.Ramp":                reflect.TypeFor[timing.Ramp](),
	"engine/timing.URLSelector":         reflect.TypeFor[timing.URLSelector](),
	"engine/dataset.Composer":           reflect.TypeFor[dataset.Composer](),
	"engine/dataset.Loader":             reflect.TypeFor[dataset.Loader](),
	"engine/dataset.SamplerFactory":     reflect.TypeFor[dataset.SamplerFactory](),
	"engine/dataset.BackingStore":       reflect.TypeFor[dataset.BackingStore](),
	"engine/dataset.ClientStore":        reflect.TypeFor[dataset.ClientStore](),
	"internal/metrics.RecordProcessor":  reflect.TypeFor[metrics.RecordProcessor](),
	"internal/metrics.ResultsProcessor": reflect.TypeFor[metrics.ResultsProcessor](),
	"internal/export.Exporter":          reflect.TypeFor[export.Exporter](),
	"internal/console.Exporter":         reflect.TypeFor[console.Exporter](),
	"internal/ui.UI":                    reflect.TypeFor[ui.UI](),
	"internal/plot.Chart":               reflect.TypeFor[plot.Chart](),
}

// sample returns a plausible value for a required parameter.
func sample(p plugin.Param) any {
	switch p.Type {
	case plugin.TString:
		if len(p.Choices) > 0 {
			return p.Choices[0]
		}
		return "x"
	case plugin.TInt:
		return int64(1)
	case plugin.TFloat:
		return 1.0
	case plugin.TBool:
		return true
	case plugin.TDuration:
		return time.Second
	case plugin.TStrings:
		return []string{"x"}
	case plugin.TList:
		return []any{}
	case plugin.TDict:
		return ordered.New(0)
	}
	return nil
}

// Every built-in that builds from sample arguments implements its
// category's protocol.
func TestBuiltinsImplementTheirProtocol(t *testing.T) {
	r, err := outputs.NewRegistry()
	if err != nil {
		t.Fatal(err)
	}
	built := 0
	for _, c := range r.Categories() {
		iface, known := protocols[c.Protocol]
		if !known {
			if len(r.All(c.Name)) > 0 {
				t.Errorf("%s: protocol %s is not in this test's table", c.Name, c.Protocol)
			}
			continue
		}
		for _, e := range r.All(c.Name) {
			class, err := e.Resolve()
			if err != nil {
				t.Errorf("%s: %v", e.Ref(), err)
				continue
			}
			args := plugin.Args{}
			for _, p := range class.Params {
				if v := sample(p); p.Required && v != nil {
					args[p.Name] = v
				}
			}
			if c.Name == plugin.Endpoint {
				args["model"] = []string{"m"}
			}
			v, err := r.Build(&plugin.Spec{Category: c.Name, Name: e.Name, Args: args})
			if err != nil {
				t.Logf("%s: not built from sample arguments (%v)", e.Ref(), err)
				continue
			}
			built++
			if !reflect.TypeOf(v).Implements(iface) {
				t.Errorf("%s builds a %T, which does not implement %s", e.Ref(), v, c.Protocol)
			}
		}
	}
	if built == 0 {
		t.Error("no built-in could be built")
	}
}

// The table above covers every category.
func TestProtocolTableComplete(t *testing.T) {
	cats, err := plugin.BuiltinCategories()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cats.List {
		if _, ok := protocols[c.Protocol]; !ok && c.Name != plugin.Plot {
			t.Errorf("%s: protocol %s has no Go interface here", c.Name, c.Protocol)
		}
	}
}
