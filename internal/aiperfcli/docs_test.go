package aiperfcli

import (
	"os"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/loadstar/loadstar/internal/golden"
)

const (
	genBegin = "<!-- BEGIN generated from internal/aiperfcli/unsupported_flags.go and rules.go: go test ./internal/aiperfcli -run TestDocs -update -->"
	genEnd   = "<!-- END generated -->"
)

// unsupportedSection renders the AIPerf flags loadstar rejects or accepts
// without effect, from unsupported and the rules' noEffect notes.
func unsupportedSection() string {
	names := func(u unsupportedFlag) string {
		var n []string
		if u.short != "" {
			n = append(n, "`-"+u.short+"`")
		}
		n = append(n, "`--"+u.name+"`")
		for _, a := range u.aliases {
			n = append(n, "`--"+a+"`")
		}
		return strings.Join(n, ", ")
	}
	// noteText is a note without the flag it starts with.
	noteText := func(flag, note string) string {
		if rest, ok := strings.CutPrefix(note, flag+": "); ok {
			return rest
		}
		return strings.TrimPrefix(note, flag+" ")
	}
	var b strings.Builder
	b.WriteString("### Accepted without effect (a note is printed)\n\n| flag | note |\n|---|---|\n")
	var noEffect []unsupportedFlag
	for _, u := range unsupportedFlags {
		if u.note != "" {
			noEffect = append(noEffect, u)
		}
	}
	sort.Slice(noEffect, func(i, j int) bool { return noEffect[i].name < noEffect[j].name })
	for _, u := range noEffect {
		b.WriteString("| " + names(u) + " | " + noteText("--"+u.name, u.note) + " |\n")
	}
	for _, r := range rules {
		if r.noEffect {
			flag := strings.TrimSpace("--" + r.flag + " " + r.when.values)
			b.WriteString("| `" + flag + "` | " + noteText(flag, r.note) + " |\n")
		}
	}
	b.WriteString("\n### AIPerf flags loadstar does not support\n\nEach is an error (exit 2) that repeats the reason.\n\n| flags | reason |\n|---|---|\n")
	var row []string
	for i, u := range unsupportedFlags {
		if u.note != "" {
			continue
		}
		row = append(row, names(u))
		if i+1 == len(unsupportedFlags) || unsupportedFlags[i+1].index[0] != u.index[0] {
			b.WriteString("| " + strings.Join(row, ", ") + " | " + strings.ReplaceAll(u.reason, "|", "\\|") + " |\n")
			row = nil
		}
	}
	return b.String()
}

// TestDocsListEveryFlag keeps docs/profile.md in step with the flags: every
// supported flag and alias is documented, and the generated tables of
// unsupported flags are current.
func TestDocsListEveryFlag(t *testing.T) {
	path := pkgDir + "/../../docs/profile.md"
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	i, j := strings.Index(doc, genBegin), strings.Index(doc, genEnd)
	if i < 0 || j < i {
		t.Fatalf("docs/profile.md lacks the generated section markers")
	}
	want := doc[:i+len(genBegin)] + "\n" + unsupportedSection() + doc[j:]
	if golden.Update() {
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		doc = want
	} else if want != doc {
		t.Errorf("docs/profile.md's unsupported-flag tables are stale: go test ./internal/aiperfcli -run TestDocs -update")
	}
	typ := reflect.TypeOf(Flags{})
	for k := 0; k < typ.NumField(); k++ {
		f := typ.Field(k)
		if f.Anonymous {
			continue
		}
		names := []string{f.Tag.Get("name")}
		if a := f.Tag.Get("aliases"); a != "" {
			names = append(names, strings.Split(a, ",")...)
		}
		if _, ok := f.Tag.Lookup("negatable"); ok {
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
