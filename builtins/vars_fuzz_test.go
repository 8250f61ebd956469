package builtins

import (
	"strings"
	"testing"

	"go.starlark.net/starlark"

	"github.com/loadstar/loadstar/interp"
)

// FuzzVar: any --var flag either parses or is refused as a usage error;
// its value keeps the text given (api_key=0123456 stays "0123456"), and
// vars.get converts it to every default type — int, float, bool, string,
// list, tuple, dict, duration — or refuses it with an error, never a panic.
func FuzzVar(f *testing.F) {
	for _, s := range []string{"api_key=0123456", "rate=10", "rates=8,16", `rates=[1, "2", 3.5]`, "d=250ms", "d=1e10",
		"d=9223372037s", `m={"a": [1, {"b": null}]}`, "flag=yes", "x=", "=v", "novalue", " k = v ", "f=1_000.5", "l=[[[[]]]]"} {
		f.Add(s)
	}
	defaults := []starlark.Value{starlark.None, starlark.String(""), starlark.MakeInt(0), starlark.Float(0), starlark.False,
		starlark.NewList(nil), starlark.NewList([]starlark.Value{starlark.MakeInt(1)}), starlark.Tuple{Duration(0)},
		starlark.NewList([]starlark.Value{starlark.NewList([]starlark.Value{starlark.Float(1)})}), new(starlark.Dict), Duration(0)}
	f.Fuzz(func(t *testing.T, flag string) {
		v, err := interp.ParseVars([]string{flag})
		if err != nil {
			if !strings.Contains(err.Error(), "want key=value") {
				t.Fatalf("--var %q: %v", flag, err)
			}
			return
		}
		k, want, _ := strings.Cut(flag, "=")
		text, ok := v.Text(strings.TrimSpace(k))
		if !ok || text != want {
			t.Fatalf("--var %q: text %q (found %v), want %q", flag, text, ok, want)
		}
		for _, def := range defaults {
			got, err := interp.ConvertVar(text, def)
			if err != nil {
				continue
			}
			if got == nil {
				t.Fatalf("--var %q as %s: nil value without an error", flag, def.Type())
			}
			if d, ok := got.(Duration); ok && (d < 0) != strings.HasPrefix(strings.TrimSpace(text), "-") && d != 0 {
				t.Fatalf("--var %q as duration: %v (wrapped sign)", flag, d)
			}
		}
	})
}
