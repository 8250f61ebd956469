package aiperfcli

import (
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/loadstar/loadstar/internal/golden"
)

const (
	genBegin = "<!-- BEGIN generated from internal/aiperfcli/unsupported_flags.go: go test ./internal/aiperfcli -run TestDocs -update -->"
	genEnd   = "<!-- END generated -->"
)

// unsupportedSection renders the AIPerf flags loadstar rejects or accepts
// without effect, from the tables the command uses.
func unsupportedSection() string {
	aliases := map[string]string{}
	typ := reflect.TypeOf(Unsupported{})
	for i := 0; i < typ.NumField(); i++ {
		tag := typ.Field(i).Tag
		var names []string
		if s := tag.Get("short"); s != "" {
			names = append(names, "`-"+s+"`")
		}
		names = append(names, "`--"+tag.Get("name")+"`")
		if a := tag.Get("aliases"); a != "" {
			for _, x := range strings.Split(a, ",") {
				names = append(names, "`--"+x+"`")
			}
		}
		aliases[tag.Get("name")] = strings.Join(names, ", ")
	}
	var b strings.Builder
	b.WriteString("### Accepted without effect (a note is printed)\n\n| flag | note |\n|---|---|\n")
	for _, name := range sortedKeys(noOpNotes) {
		note := noOpNotes[name]
		if _, rest, ok := strings.Cut(note, ": "); ok && strings.HasPrefix(note, "--"+name+":") {
			note = rest
		} else {
			note = strings.TrimPrefix(note, "--"+name+" ")
		}
		b.WriteString("| " + aliases[name] + " | " + note + " |\n")
	}
	b.WriteString("| `--tokenizer-trust-remote-code` | loadstar reads tokenizer.json files and runs no remote code |\n")
	b.WriteString("| `--prompt-corpus sonnet` | loadstar's prompts come from its own public-domain prose corpus |\n")
	b.WriteString("\n### AIPerf flags loadstar does not support\n\nEach is an error (exit 2) that repeats the reason.\n\n| flags | reason |\n|---|---|\n")
	for _, g := range unsupportedGroups {
		names := make([]string, len(g.Flags))
		for i, f := range g.Flags {
			names[i] = aliases[f]
		}
		b.WriteString("| " + strings.Join(names, ", ") + " | " + strings.ReplaceAll(g.Reason, "|", "\\|") + " |\n")
	}
	return b.String()
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	for i := 1; i < len(keys); i++ {
		for j := i; j > 0 && keys[j] < keys[j-1]; j-- {
			keys[j], keys[j-1] = keys[j-1], keys[j]
		}
	}
	return keys
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
