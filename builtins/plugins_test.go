package builtins

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"
	"go.starlark.net/starlarktest"

	"github.com/loadstar/loadstar/engine/catalog"
	"github.com/loadstar/loadstar/engine/dist"
	"github.com/loadstar/loadstar/engine/ordered"
	"github.com/loadstar/loadstar/engine/plugin"
	"github.com/loadstar/loadstar/interp"
)

// testRegistry has the Starlark chat package plus test classes whose
// parameters cover every ParamType.
func testRegistry(t *testing.T) *plugin.Registry {
	t.Helper()
	r, err := catalog.New(plugin.WithBuiltinManifest([]byte(`schema_version: "1.0"
arrival_pattern:
  poisson: {class: go:engine/timing.Poisson}
  gamma: {class: go:engine/timing.Gamma}
`)), plugin.WithPackages(plugin.PackageDir{Dir: filepath.Join("..", "testdata", "plugins", "starlark-chat"), Source: "test"}))
	if err != nil {
		t.Fatal(err)
	}
	rate := &plugin.Class{Params: []plugin.Param{
		{Name: "rate", Type: plugin.TFloat, Required: true, Doc: "requests per second"},
		{Name: "arrival", Type: plugin.TSpec, SpecCategory: plugin.ArrivalPattern},
		{Name: "every", Type: plugin.TDuration},
		{Name: "jitter", Type: plugin.TDist},
		{Name: "tags", Type: plugin.TStrings},
		{Name: "body", Type: plugin.TDict},
		{Name: "items", Type: plugin.TList},
		{Name: "mode", Type: plugin.TString, Choices: []string{"a", "b"}},
		{Name: "count", Type: plugin.TInt},
		{Name: "hook", Type: plugin.TFunc},
		{Name: "anything", Type: plugin.TAny},
	}, New: func(a plugin.Args) (any, error) { return a, nil }}
	if err := r.Register(plugin.TimingStrategy, "rate", rate); err != nil {
		t.Fatal(err)
	}
	return r
}

func TestPluginNamespacesStarlark(t *testing.T) {
	reg := testRegistry(t)
	mods := pluginModules(reg)
	predeclared, err := Merge(core(), mods)
	if err != nil {
		t.Fatal(err)
	}
	assert, err := starlarktest.LoadAssertModule()
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join("..", "testdata", "plugins", "scripts", "namespaces_test.star")
	thread := &starlark.Thread{Name: file, Load: func(_ *starlark.Thread, m string) (starlark.StringDict, error) {
		return assert, nil
	}}
	starlarktest.SetReporter(thread, t)
	if _, err := starlark.ExecFileOptions(testFileOptions, thread, file, nil, predeclared); err != nil {
		if ee, ok := err.(*starlark.EvalError); ok {
			t.Fatal(ee.Backtrace())
		}
		t.Fatal(err)
	}
}

func TestPluginModulesSkipInternalCategories(t *testing.T) {
	mods := pluginModules(testRegistry(t))
	for _, c := range []string{"record_processor", "results_processor", "dataset_backing_store", "dataset_client_store"} {
		if _, ok := mods[c]; ok {
			t.Errorf("internal category %s has a namespace", c)
		}
	}
	for _, ns := range []string{"endpoint", "timing", "arrival", "ramp", "dataset", "loader", "sampler", "exporter", "console", "ui", "url_selection", "plot", "transport"} {
		if _, ok := mods[ns].(*starlarkstruct.Module); !ok {
			t.Errorf("no namespace %s", ns)
		}
	}
}

// Arguments arrive in Go with the types plugin.ParamType promises, and the
// spec builds through the registry.
func TestConstructorArgsAreTyped(t *testing.T) {
	reg := testRegistry(t)
	v := eval(t, reg, `timing.rate(rate = 2, arrival = arrival.poisson(), every = "1s", jitter = dist.normal(5, 1), tags = ["a", "b"], body = {"x": {"y": [1, 2.5, None, True]}}, items = [ms(3), "s"], count = 3, hook = lambda x: x * 2, anything = {"n": 1})`)
	spec, ok := SpecOf(v)
	if !ok {
		t.Fatalf("not a spec: %s", v.Type())
	}
	a := spec.Args
	if a["rate"] != 2.0 || a["every"] != time.Second || a["count"] != int64(3) {
		t.Errorf("scalars = %#v %#v %#v", a["rate"], a["every"], a["count"])
	}
	if s := a["arrival"].(*plugin.Spec); s.Category != plugin.ArrivalPattern || s.Name != "poisson" {
		t.Errorf("arrival = %v", s)
	}
	if d, ok := a["jitter"].(dist.Dist); !ok || d.Mean() != 5 {
		t.Errorf("jitter = %#v", a["jitter"])
	}
	body := a["body"].(*ordered.Map)
	if b, _ := body.MarshalJSON(); string(b) != `{"x":{"y":[1,2.5,null,true]}}` {
		t.Errorf("body = %s", b)
	}
	if items := a["items"].([]any); items[0] != 3*time.Millisecond || items[1] != "s" {
		t.Errorf("items = %#v", items)
	}
	out, err := a["hook"].(plugin.Func)(int64(21))
	if err != nil || out != int64(42) {
		t.Errorf("hook(21) = %v, %v", out, err)
	}
	built, err := reg.Build(spec)
	if err != nil {
		t.Fatal(err)
	}
	if built.(plugin.Args)["rate"] != 2.0 {
		t.Errorf("built = %v", built)
	}
}

func TestFuncReportsScriptErrors(t *testing.T) {
	reg := testRegistry(t)
	spec, _ := SpecOf(eval(t, reg, `timing.rate(rate = 1, hook = lambda x: x // 0)`))
	_, err := spec.Args["hook"].(plugin.Func)(int64(1))
	if err == nil || !strings.Contains(err.Error(), "division by zero") {
		t.Errorf("err = %v", err)
	}
}

func TestUnknownPluginTypeIsAnAttributeError(t *testing.T) {
	_, err := evalErr(testRegistry(t), `endpoint.my_plugin()`)
	if err == nil || !strings.Contains(err.Error(), "module has no .my_plugin field or method") {
		t.Errorf("err = %v", err)
	}
}

func eval(t *testing.T, reg *plugin.Registry, expr string) starlark.Value {
	t.Helper()
	v, err := evalErr(reg, expr)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func evalErr(reg *plugin.Registry, expr string) (starlark.Value, error) {
	predeclared, err := Merge(core(), pluginModules(reg))
	if err != nil {
		return nil, err
	}
	g, err := starlark.ExecFileOptions(testFileOptions, &starlark.Thread{}, "t.star", "v = "+expr, predeclared)
	if err != nil {
		return nil, err
	}
	return g["v"], nil
}

func TestPredeclaredNeedsRegistry(t *testing.T) {
	if _, err := Predeclared(&Env{}); err == nil || !strings.Contains(err.Error(), "plugin registry") {
		t.Errorf("Predeclared without a registry: %v", err)
	}
}

// A plugin's duration argument and a --var read as a duration refuse spans
// beyond about 292 years instead of wrapping to negative ones (issue 14).
func TestDurationsBeyond292YearsRefused(t *testing.T) {
	reg := testRegistry(t)
	for _, arg := range []string{`every = 1e10`, `every = "3000000h"`, `every = s(9e9) + s(9e9)`} {
		_, err := evalErr(reg, `timing.rate(rate = 2, `+arg+`)`)
		if err == nil || !strings.Contains(err.Error(), "292 years") {
			t.Errorf("%s: err %v, want a refusal naming the limit", arg, err)
		}
	}
	for _, text := range []string{"1e10", "3000000h", "9223372037s"} {
		_, err := interp.ConvertVar(text, Duration(time.Second))
		if err == nil || !strings.Contains(err.Error(), "292 years") {
			t.Errorf("--var d=%s read as a duration: err %v", text, err)
		}
	}
	if v, err := interp.ConvertVar("2s", Duration(time.Second)); err != nil || v != Duration(2*time.Second) {
		t.Errorf("--var d=2s: %v, %v", v, err)
	}
}
