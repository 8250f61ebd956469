package profile

import (
	"os"
	"reflect"
	"strings"
	"testing"
)

// TestDocsListEveryFlag keeps docs/profile.md in step with the flags: every
// flag, alias and unsupported AIPerf flag is documented.
func TestDocsListEveryFlag(t *testing.T) {
	b, err := os.ReadFile(pkgDir + "/../../docs/profile.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	var walk func(reflect.Type)
	walk = func(typ reflect.Type) {
		for i := 0; i < typ.NumField(); i++ {
			f := typ.Field(i)
			if f.Anonymous {
				walk(f.Type)
				continue
			}
			names := []string{f.Tag.Get("name")}
			if a := f.Tag.Get("aliases"); a != "" {
				names = append(names, strings.Split(a, ",")...)
			}
			if f.Tag.Get("negatable") != "" {
				names = append(names, "no-"+names[0])
			}
			for _, n := range names {
				if !strings.Contains(doc, "`--"+n+"`") {
					t.Errorf("docs/profile.md does not list `--%s`", n)
				}
			}
			if s := f.Tag.Get("short"); s != "" && !strings.Contains(doc, "`-"+s+"`") {
				t.Errorf("docs/profile.md does not list `-%s`", s)
			}
		}
	}
	walk(reflect.TypeOf(Flags{}))
	for flag := range UnsupportedFlags() {
		if !strings.Contains(doc, "`--"+flag+"`") {
			t.Errorf("docs/profile.md does not list the unsupported `--%s`", flag)
		}
	}
}
