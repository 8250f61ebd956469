package plugin_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/loadstar/loadstar/engine/errext"
	"github.com/loadstar/loadstar/engine/plugin"
)

func mustCategories(t *testing.T) *plugin.Categories {
	t.Helper()
	cats, err := plugin.BuiltinCategories()
	if err != nil {
		t.Fatal(err)
	}
	return cats
}

func TestParseManifestErrorsNameFileLineKey(t *testing.T) {
	cats := mustCategories(t)
	for _, tc := range []struct {
		name, yaml, want string
	}{
		{"unknown entry key", `schema_version: "1.0"
endpoint:
  chat:
    class: go:engine/endpoint.Chat
    colour: blue
`, `my.yaml:5: endpoint.chat.colour: unknown key (want class, description, priority, metadata)`},
		{"wrong type", `schema_version: "1.0"
timing_strategy:
  rate:
    class: go:engine/timing.Rate
    priority: high
`, `my.yaml:5: timing_strategy.rate.priority: want an integer, got string "high"`},
		{"metadata field not in schema", `schema_version: "1.0"
transport:
  http:
    class: go:internal/transport.HTTP
    metadata:
      transport_type: http
      url_schemes: [http]
      tls: true
`, `my.yaml:8: transport.http.metadata.tls: not a metadata field of category transport (want one of: transport_type, url_schemes)`},
		{"metadata in a category without schema", `schema_version: "1.0"
ui:
  none:
    class: go:internal/ui.None
    metadata: {fancy: true}
`, `my.yaml:5: ui.none.metadata.fancy: category ui has no metadata fields`},
		{"metadata wrong type", `schema_version: "1.0"
transport:
  http:
    class: go:internal/transport.HTTP
    metadata:
      transport_type: http
      url_schemes: http
`, `my.yaml:7: transport.http.metadata.url_schemes: want a list of strings, got string "http"`},
		{"metadata required field missing", `schema_version: "1.0"
transport:
  http:
    class: go:internal/transport.HTTP
    metadata:
      transport_type: http
`, `my.yaml:6: transport.http.metadata.url_schemes: missing required metadata field (list[string])`},
		{"unknown category", `schema_version: "1.0"
service:
  x: {class: go:engine/x.Y}
`, `my.yaml:2: service: unknown category (want schema_version, package or one of: endpoint, transport,`},
		{"bad class path", `schema_version: "1.0"
ui:
  none:
    class: engine.ui:NoUI
`, `my.yaml:4: ui.none.class: bad class path "engine.ui:NoUI": want go:<package path>.<Name> (built into loadstar) or path/to/file.star:symbol`},
		{"class escapes package", `schema_version: "1.0"
ui:
  none:
    class: ../other/x.star:ui
`, `my.yaml:4: ui.none.class: bad class path "../other/x.star:ui": the .star file must stay inside the package`},
		{"missing class", `schema_version: "1.0"
ui:
  none:
    description: nothing
`, `my.yaml:4: ui.none.class: missing`},
		{"bad name", `schema_version: "1.0"
ui:
  Fancy UI:
    class: go:internal/ui.X
`, `my.yaml:3: ui.Fancy UI: plugin names are lower-case letters`},
		{"keyword name", `schema_version: "1.0"
ui:
  pass:
    class: go:internal/ui.X
`, `my.yaml:3: ui.pass: "pass" is a Starlark keyword`},
		{"names equal after normalising", `schema_version: "1.0"
ui:
  a-b: {class: go:internal/ui.X}
  a_b: {class: go:internal/ui.Y}
`, `my.yaml:4: ui.a_b: same name as "a-b"`},
		{"duplicate key", `schema_version: "1.0"
ui:
  a: {class: go:internal/ui.X}
  a: {class: go:internal/ui.Y}
`, `my.yaml:4: ui.a: duplicate key`},
		{"missing schema version", `ui: {}
`, `my.yaml:1: schema_version: missing (want "1.0")`},
		{"wrong schema version", `schema_version: "2.0"
`, `my.yaml:1: schema_version: unsupported version "2.0"`},
		{"invalid yaml", "schema_version: \"1.0\"\nui:\n  a: [\n", `my.yaml:3: invalid YAML: did not find expected node content`},
		{"not a mapping", `- a
`, `my.yaml:1: want a mapping at the top level, got a list`},
		{"package header unknown key", `schema_version: "1.0"
package: {name: p, author: me}
`, `my.yaml:2: package.author: unknown key (want name, version, description)`},
		{"entry not a mapping", `schema_version: "1.0"
ui:
  none: go:internal/ui.None
`, `my.yaml:3: ui.none: want a mapping, got string "go:internal/ui.None"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := plugin.ParseManifest("my.yaml", []byte(tc.yaml), cats)
			if err == nil {
				t.Fatalf("no error, want %q", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error:\n%v\nwant it to contain:\n%s", err, tc.want)
			}
			var me *plugin.ManifestError
			if !errors.As(err, &me) || me.File != "my.yaml" {
				t.Errorf("not a *ManifestError: %T", err)
			}
		})
	}
}

func TestParseManifestReportsEveryProblem(t *testing.T) {
	_, err := plugin.ParseManifest("m.yaml", []byte(`schema_version: "1.0"
ui:
  a: {class: nope, priority: x}
  b: {class: go:internal/ui.B, extra: 1}
`), mustCategories(t))
	if n := len(err.(interface{ Unwrap() []error }).Unwrap()); n != 3 {
		t.Errorf("got %d problems, want 3:\n%v", n, err)
	}
}

func TestParseManifestAcceptsEmptySections(t *testing.T) {
	m, err := plugin.ParseManifest("m.yaml", []byte(`schema_version: "1.0"
endpoint: {}
ui:
plot: {}
`), mustCategories(t))
	if err != nil || len(m.Entries) != 0 {
		t.Fatalf("m = %+v, err = %v", m, err)
	}
}

func TestParseManifestEntry(t *testing.T) {
	m, err := plugin.ParseManifest("m.yaml", []byte(`schema_version: 1.0
package:
  name: my-plugins
  version: 0.3.1
  description: Mine.
transport:
  http2:
    class: transports/h2.star:transport
    description: HTTP/2.
    priority: -3
    metadata:
      transport_type: http
      url_schemes: [http, https]
`), mustCategories(t))
	if err != nil {
		t.Fatal(err)
	}
	if m.Package != (plugin.PackageHeader{Name: "my-plugins", Version: "0.3.1", Description: "Mine."}) {
		t.Errorf("package = %+v", m.Package)
	}
	e := m.Entries[0]
	if e.Category != plugin.Transport || e.Name != "http2" || e.Class != "transports/h2.star:transport" || e.Priority != -3 || e.Line != 7 {
		t.Errorf("entry = %+v", e)
	}
	if v, _ := e.Metadata.Get("url_schemes"); len(v.([]string)) != 2 {
		t.Errorf("url_schemes = %v", v)
	}
}

func TestParseCategoriesErrors(t *testing.T) {
	for _, tc := range []struct{ yaml, want string }{
		{`schema_version: "1.0"
endpoint:
  protocol: engine/endpoint.Endpoint
  namespace: endpoint
  enum: EndpointType
  description: x
  colour: red
`, `c.yaml:7: endpoint.colour: unknown key`},
		{`schema_version: "1.0"
arrival_pattern:
  protocol: engine/timing.ArrivalPattern
  namespace: arrivals
  enum: ArrivalPattern
  description: x
`, `c.yaml:3: arrival_pattern.namespace: is "arrivals" but plugin.Namespace says "arrival"`},
		{`schema_version: "1.0"
endpoint:
  protocol: endpoint
  namespace: endpoint
  enum: EndpointType
  description: x
  metadata:
    path: {type: path}
`, `c.yaml:3: endpoint.protocol: want <package path>.<Interface>`},
		{`schema_version: "1.0"
endpoint:
  protocol: engine/endpoint.Endpoint
  namespace: endpoint
  enum: EndpointType
  description: x
  internal: maybe
  metadata:
    path: {type: path}
`, `c.yaml:9: endpoint.metadata.path.type: unknown type "path"`},
		{`schema_version: "1.0"
endpoint:
  protocol: engine/endpoint.Endpoint
  namespace: endpoint
  enum: EndpointType
  description: x
  internal: maybe
`, `c.yaml:7: endpoint.internal: want true or false, got string "maybe"`},
		{`schema_version: "1.0"
endpoint:
  namespace: endpoint
  enum: EndpointType
  description: x
`, `c.yaml:3: endpoint.protocol: missing`},
	} {
		_, err := plugin.ParseCategories("c.yaml", []byte(tc.yaml))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("error:\n%v\nwant it to contain:\n%s", err, tc.want)
		}
	}
}

// A broken external package does not take the registry down: its problems
// are reported with file:line and the rest stays usable.
func TestBrokenPackageReported(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "plugins.yaml"), []byte(`schema_version: "1.0"
package: {name: broken, version: "1"}
endpoint:
  chat:
    class: go:engine/ext.Chat
    priority: ten
    metadata: `+endpointMD+`
`), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := plugin.NewRegistry(plugin.WithBuiltinManifest([]byte(builtinManifest)), plugin.WithGoClasses(goClasses),
		plugin.WithPackages(plugin.PackageDir{Dir: dir, Source: "--plugins"}))
	want := filepath.Join(dir, "plugins.yaml") + `:6: endpoint.chat.priority: want an integer, got string "ten"`
	if err == nil || !strings.Contains(err.Error(), want) || errext.ExitCodeOf(err) != errext.PluginError {
		t.Fatalf("err = %v\nwant %s", err, want)
	}
	if got := build(t, r, plugin.Endpoint, "chat"); got != "builtin chat" {
		t.Errorf("chat = %q", got)
	}
	rep := r.Validate()
	if ps := rep.ByCategory()[plugin.ManifestGroup]; len(ps) != 1 || !strings.Contains(ps[0].Err.Error(), want) {
		t.Errorf("report = %s", rep)
	}
}

func TestParseClassPath(t *testing.T) {
	for in, want := range map[string]plugin.ClassPath{
		"go:engine/endpoint.Chat":     {Kind: plugin.GoClass, Package: "engine/endpoint", Name: "Chat"},
		"endpoints/custom.star:my_ep": {Kind: plugin.ScriptClass, File: "endpoints/custom.star", Symbol: "my_ep"},
		"x.star:f":                    {Kind: plugin.ScriptClass, File: "x.star", Symbol: "f"},
	} {
		got, err := plugin.ParseClassPath(in)
		if err != nil || got != want || got.String() != in {
			t.Errorf("ParseClassPath(%q) = %+v, %v", in, got, err)
		}
	}
	for _, bad := range []string{"go:Engine.Chat", "go:engine/endpoint", "/abs/x.star:f", "x.py:f", "x.star:", "a//b.star:f", "@pkg//x.star:f"} {
		if _, err := plugin.ParseClassPath(bad); err == nil {
			t.Errorf("ParseClassPath(%q) accepted", bad)
		}
	}
}
