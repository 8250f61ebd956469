package catalog_test

import (
	"strings"
	"testing"

	"github.com/loadstar/loadstar/engine/catalog"
	"github.com/loadstar/loadstar/engine/plugin"
)

func TestClassNames(t *testing.T) {
	classes := catalog.Classes()
	if len(classes) == 0 {
		t.Fatal("no classes bound")
	}
	for name, c := range classes {
		if _, err := plugin.ParseClassPath(name); err != nil || !(strings.HasPrefix(name, "go:engine/") || strings.HasPrefix(name, "go:internal/")) {
			t.Errorf("class name %q: %v", name, err)
		}
		if c == nil || c.New == nil {
			t.Errorf("%s: class without New", name)
		}
		for _, p := range c.Params {
			if p.Type == 0 {
				t.Errorf("%s: parameter %s has no type", name, p.Name)
			}
			if p.Type == plugin.TSpec && p.SpecCategory == "" {
				t.Errorf("%s: plugin parameter %s has no SpecCategory", name, p.Name)
			}
		}
	}
}
