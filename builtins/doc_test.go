package builtins

import (
	"bytes"
	"strings"
	"testing"

	"go.starlark.net/starlark"

	"github.com/loadstar/loadstar/engine/catalog"
	"github.com/loadstar/loadstar/stdlib"
)

func TestReferenceCoversEveryPredeclaredName(t *testing.T) {
	reg, err := catalog.New()
	if err != nil {
		t.Fatal(err)
	}
	pre, err := Predeclared(&Env{Registry: reg})
	if err != nil {
		t.Fatal(err)
	}
	entries := Reference(reg, stdlib.FS)
	if missing := undocumented(pre, entries); len(missing) > 0 {
		t.Fatalf("predeclared names without documentation: %v", missing)
	}
	for _, name := range []string{"run", "endpoint.chat", "timing.request_rate", "arrival.gamma", "dataset.synthetic", "@stdlib//slo.star"} {
		if len(FindDoc(entries, name)) == 0 {
			t.Errorf("no documentation for %s", name)
		}
	}
	var buf bytes.Buffer
	WriteMarkdown(&buf, FindDoc(entries, "timing"), false)
	if !strings.Contains(buf.String(), "### `timing.request_rate`") || !strings.Contains(buf.String(), "| `rate` |") {
		t.Fatalf("namespace doc lacks request_rate and its arguments:\n%s", buf.String())
	}
}

// sweep() and search() are documented from the tables that parse them:
// every documented name is accepted, nothing else is, and a literal
// documented default is what an absent argument leaves.
func TestSweepSearchDocsMatchTheirParsers(t *testing.T) {
	for _, tc := range []struct {
		fn    string
		doc   []Kwarg
		table func() []scriptArg
	}{
		{"sweep", sweepKwargs(), func() []scriptArg { return newSweepArgs().table() }},
		{"search", searchKwargs(), func() []scriptArg { return newSearchArgs().table() }},
	} {
		var required []starlark.Tuple
		for _, a := range tc.table() {
			if a.required {
				required = append(required, starlark.Tuple{starlark.String(a.name), starlark.MakeInt(1)})
			}
		}
		parsed := tc.table()
		if err := unpackArgs(tc.fn, nil, required, parsed); err != nil {
			t.Fatalf("%s with its required arguments: %v", tc.fn, err)
		}
		for i, d := range tc.doc {
			if d.Name != parsed[i].name {
				t.Fatalf("%s: doc %s, parser %s", tc.fn, d.Name, parsed[i].name)
			}
			if parsed[i].shown == "" && !parsed[i].required {
				if got := initialValue(parsed[i].dst); got != d.Default {
					t.Errorf("%s(%s): documented default %s, absent argument leaves %s", tc.fn, d.Name, d.Default, got)
				}
			}
			kw := append(append([]starlark.Tuple(nil), required...), starlark.Tuple{starlark.String(d.Name), starlark.None})
			if err := unpackArgs(tc.fn, nil, kw, tc.table()); err != nil && strings.Contains(err.Error(), "unknown argument") {
				t.Errorf("%s: documented argument %s rejected: %v", tc.fn, d.Name, err)
			}
		}
		kw := append(append([]starlark.Tuple(nil), required...), starlark.Tuple{starlark.String("undocumented"), starlark.None})
		if err := unpackArgs(tc.fn, nil, kw, tc.table()); err == nil || !strings.Contains(err.Error(), "unknown argument") {
			t.Errorf("%s accepted an undocumented argument: %v", tc.fn, err)
		}
	}
	if d := sweepKwargs(); d[3].Name != "repeat" || d[3].Default != "1" || d[9].Default != `"sweep"` {
		t.Errorf("sweep defaults %+v", d)
	}
	if d := searchKwargs(); d[2].Default != "2·lo" || d[6].Default != "0.05" || d[10].Default != `"value"` {
		t.Errorf("search defaults %+v", d)
	}
}
