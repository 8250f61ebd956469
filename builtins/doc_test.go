package builtins

import (
	"bytes"
	"strings"
	"testing"

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
