package builtins

import (
	"reflect"
	"testing"

	"go.starlark.net/starlark"

	"github.com/loadstar/loadstar/engine/mock"
	"github.com/loadstar/loadstar/interp"
)

func resolvedMock(t *testing.T, c mock.Config) mock.Config {
	t.Helper()
	r, err := c.Resolved()
	if err != nil {
		t.Fatal(err)
	}
	r.Logger = nil
	return r
}

// The documented defaults of mock.server() are what the server runs with:
// giving each one explicitly changes nothing, and each option's setter and
// shown value address the same field.
func TestMockKwargsDefaults(t *testing.T) {
	want := resolvedMock(t, mock.DefaultConfig())
	docs := map[string]Kwarg{}
	for _, k := range MockKwargs() {
		docs[k.Name] = k
	}
	other := map[string]string{"duration": `"7ms"`, "int": "7", "float": "0.5", "bool": "True", "string": `"aiperf"`,
		"dict": `{"server_error": 0.5}`, "list[string]": `["a", "b"]`}
	th := &starlark.Thread{Name: "test"}
	eval := func(src string) starlark.Value {
		v, err := starlark.EvalOptions(interp.FileOptions, th, "default", src, nil)
		if err != nil {
			t.Fatalf("%s: %v", src, err)
		}
		return v
	}
	for _, o := range mockOptions() {
		doc := docs[o.name]
		if doc.Default == "" || doc.Doc == "" || doc.Type != o.typ {
			t.Errorf("%s: documented as %+v", o.name, doc)
		}
		src := doc.Default
		switch {
		case o.typ == "duration":
			src = `"` + src + `"`
		case src == "by effort":
			src = "0"
		}
		cfg := mock.DefaultConfig()
		if err := o.set(&cfg, eval(src)); err != nil {
			t.Errorf("%s=%s: %v", o.name, src, err)
			continue
		}
		if got := resolvedMock(t, cfg); !reflect.DeepEqual(got, want) {
			t.Errorf("%s=%s (its documented default) changes the server:\n got %+v\nwant %+v", o.name, src, got, want)
		}
		if err := o.set(&cfg, eval(other[o.typ])); err != nil {
			t.Errorf("%s=%s: %v", o.name, other[o.typ], err)
			continue
		}
		if o.show(&cfg) == doc.Default {
			t.Errorf("%s=%s still shows the default %s: set and show address different fields", o.name, other[o.typ], doc.Default)
		}
	}
	if len(docs) != len(mockOptions()) {
		t.Errorf("%d documented options for %d parsed ones", len(docs), len(mockOptions()))
	}
}
