package outputs_test

import (
	"strings"
	"testing"

	"github.com/loadstar/loadstar/engine/catalog"
	"github.com/loadstar/loadstar/engine/plugin"
	"github.com/loadstar/loadstar/internal/outputs"
)

// The shipped manifest is valid and complete in the binary's registry:
// every go: class is bound (CI runs `loadstar plugins --validate` too).
func TestShippedManifestValidates(t *testing.T) {
	r, err := outputs.NewRegistry()
	if err != nil {
		t.Fatal(err)
	}
	if rep := r.Validate(); !rep.OK() {
		t.Fatalf("shipped manifests:\n%s", rep)
	}
	for _, c := range r.Categories() {
		for _, e := range r.All(c.Name) {
			if _, err := e.Resolve(); err != nil {
				t.Errorf("%s: %v", e.Ref(), err)
			}
		}
	}
}

// The output plugins' classes are exactly the manifest's classes that
// engine/catalog leaves to this package: together they bind every class,
// and neither binds one of the other's.
func TestClassesComplementTheCatalog(t *testing.T) {
	engine, ours := catalog.Classes(), outputs.Classes()
	for name, c := range ours {
		if _, dup := engine[name]; dup {
			t.Errorf("%s bound twice", name)
		}
		if _, err := plugin.ParseClassPath(name); err != nil || !strings.HasPrefix(name, "go:internal/") || c == nil || c.New == nil {
			t.Errorf("class %q: %v", name, err)
		}
	}
	r, err := catalog.New()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range r.Categories() {
		for _, e := range r.All(c.Name) {
			_, err := e.Resolve()
			_, output := ours[e.Class]
			switch {
			case output && err == nil:
				t.Errorf("%s: bound by engine/catalog too", e.Ref())
			case !output && err != nil:
				t.Errorf("%s: not bound by engine/catalog: %v", e.Ref(), err)
			}
		}
	}
}
