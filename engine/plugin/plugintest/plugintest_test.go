package plugintest_test

import (
	"testing"

	"github.com/loadstar/loadstar/engine/plugin"
	"github.com/loadstar/loadstar/engine/plugin/plugintest"
)

type fake struct{ n int }

func registry(t *testing.T) *plugin.Registry {
	t.Helper()
	r, err := plugin.NewRegistry(plugin.WithBuiltinManifest([]byte(`schema_version: "1.0"
ui:
  simple: {class: go:internal/ui.Simple, description: Progress bar.}
`)), plugin.WithGoClasses(map[string]*plugin.Class{
		"go:internal/ui.Simple": {Params: []plugin.Param{{Name: "width", Type: plugin.TInt}}, New: func(plugin.Args) (any, error) { return "real", nil }},
	}))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func build(t *testing.T, r *plugin.Registry, name string) any {
	t.Helper()
	v, err := r.Build(&plugin.Spec{Category: plugin.UI, Name: name, Args: plugin.Args{"width": int64(3)}})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestMockRestoresOnCleanup(t *testing.T) {
	r := registry(t)
	mock := &fake{1}
	t.Run("mocked", func(t *testing.T) {
		plugintest.Mock(t, r, plugin.UI, "simple", mock)
		if got := build(t, r, "simple"); got != mock {
			t.Errorf("mocked build = %v", got)
		}
		// New names can be mocked too.
		plugintest.Mock(t, r, plugin.UI, "brand-new", &plugin.Class{New: func(plugin.Args) (any, error) { return 7, nil }})
		if v, err := r.Build(&plugin.Spec{Category: plugin.UI, Name: "brand_new"}); err != nil || v != 7 {
			t.Errorf("new mock = %v, %v", v, err)
		}
	})
	if got := build(t, r, "simple"); got != "real" {
		t.Errorf("after the subtest build = %v, want the real plugin back", got)
	}
	if _, err := r.Get(plugin.UI, "brand_new"); err == nil {
		t.Error("mocked new name survived cleanup")
	}
	if _, ok := r.Package("runtime"); ok {
		t.Error("runtime package survived cleanup")
	}
}

func TestMockKeepsParamsOfReplacedPlugin(t *testing.T) {
	r := registry(t)
	plugintest.Mock(t, r, plugin.UI, "simple", &fake{2})
	_, err := r.Build(&plugin.Spec{Category: plugin.UI, Name: "simple", Args: plugin.Args{"colour": "red"}})
	if err == nil {
		t.Error("mock accepted an argument the real plugin does not take")
	}
}
