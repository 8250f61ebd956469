package plugin_test

import (
	"os"
	"strings"
	"testing"

	"github.com/loadstar/loadstar/engine/plugin"
)

// FuzzParseManifest: any bytes given as a plugins.yaml (a
// ./loadstar_plugins/ folder is read from the working directory) either
// parse or fail with an error naming the file — never a panic or a hang
// (YAML alias bombs included).
func FuzzParseManifest(f *testing.F) {
	f.Add([]byte(plugin.BuiltinManifest()))
	f.Add([]byte("schema_version: \"1.0\"\nui:\n  a: {class: go:internal/ui.X}\n"))
	f.Add([]byte("schema_version: \"1.0\"\npackage: {name: p, version: \"1\"}\nendpoint:\n  e:\n    class: star:e.star\n    metadata: {path: /v1/x, streaming: true}\n"))
	f.Add([]byte("a: &a [*a, *a]\nb: &b [*a, *a, *a]\nc: [*b, *b, *b, *b]\n"))
	f.Add([]byte("schema_version: \"1.0\"\nui:\n  a: [\n"))
	cats, err := plugin.BuiltinCategories()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := plugin.ParseManifest("fuzz.yaml", data, cats)
		if err != nil {
			if !strings.Contains(err.Error(), "fuzz.yaml") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		if m == nil {
			t.Fatal("nil manifest without an error")
		}
	})
}

// FuzzParseCategories: the same for a categories.yaml.
func FuzzParseCategories(f *testing.F) {
	if data, err := os.ReadFile("categories.yaml"); err == nil {
		f.Add(data)
	}
	f.Add([]byte("schema_version: \"1.0\"\n"))
	f.Add([]byte("a: &a [*a]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, err := plugin.ParseCategories("cats.yaml", data)
		if err != nil && !strings.Contains(err.Error(), "cats.yaml") {
			t.Fatalf("error does not name the file: %v", err)
		}
	})
}
