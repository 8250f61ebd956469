package main

import (
	"os/exec"
	"sort"
	"strings"
	"testing"
)

// layerRules are the import rules of docs/architecture.md: data flows one
// way (script → plan → engine → records → results → outputs), and a lower
// layer never imports a higher one. Each rule forbids the packages whose
// path starts with one of `forbidden` anywhere in the (transitive, non-test)
// dependencies of the packages whose path starts with `from`. Paths are
// relative to the module.
var layerRules = []struct {
	from      string
	forbidden []string
	why       string
}{
	{"engine/", []string{"internal/ui", "internal/console", "internal/export", "internal/outputs", "internal/sweep",
		"internal/aiperfcli", "builtins", "interp", "cmd/", "stdlib"},
		"the engine runs steps and hands back records and results; the caller renders and exports them (internal/outputs)"},
	{"internal/metrics", []string{"internal/ui", "internal/console", "internal/export", "internal/outputs"},
		"metrics computes; record sinks and the results go to outputs the caller constructs"},
	{"internal/transport", []string{"internal/metrics", "internal/ui", "internal/console", "internal/export", "internal/outputs"},
		"the transport sends requests and stamps records"},
	{"internal/export", []string{"internal/ui", "internal/console", "internal/outputs", "engine/runner"},
		"exporters write files from records and results"},
	{"internal/console", []string{"internal/ui", "internal/export", "internal/outputs", "engine/runner"},
		"the console renders results"},
	{"internal/ui", []string{"internal/console", "internal/export", "internal/outputs", "engine/runner"},
		"progress displays render snapshots"},
	{"internal/outputs", []string{"builtins", "interp", "cmd/", "internal/aiperfcli", "internal/sweep"},
		"the assembling layer sits below the front ends"},
	{"interp", []string{"engine/config", "builtins", "cmd/"}, "the Starlark host knows nothing of benchmarks"},
	{"engine/tokenizer", []string{"engine/config"}, "tokenizers know nothing of plans"},
	{"builtins", []string{"cmd/", "internal/aiperfcli"}, "the script API sits below the commands"},
	{"internal/aiperfcli", []string{"cmd/"}, "the AIPerf front end sits below the commands"},
}

// TestImportLayers checks layerRules against `go list`: every package's
// transitive imports, outside tests.
func TestImportLayers(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}}{{range .Deps}} {{.}}{{end}}`, "../../...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	const module = "github.com/loadstar/loadstar/"
	seen := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		pkg, ok := strings.CutPrefix(fields[0], module)
		if !ok {
			continue
		}
		for _, r := range layerRules {
			if !under(pkg, r.from) {
				continue
			}
			seen[r.from] = true
			var bad []string
			for _, d := range fields[1:] {
				dep, ok := strings.CutPrefix(d, module)
				if !ok {
					continue
				}
				for _, f := range r.forbidden {
					if under(dep, f) {
						bad = append(bad, dep)
					}
				}
			}
			if len(bad) > 0 {
				sort.Strings(bad)
				t.Errorf("%s imports %s (directly or not): %s", pkg, strings.Join(bad, ", "), r.why)
			}
		}
	}
	for _, r := range layerRules {
		if !seen[r.from] {
			t.Errorf("rule for %s matches no package: update layerRules", r.from)
		}
	}
}

// under reports whether pkg is prefix itself or inside it ("engine/" is
// every package under engine; "builtins" is builtins and its subpackages).
func under(pkg, prefix string) bool {
	if strings.HasSuffix(prefix, "/") {
		return strings.HasPrefix(pkg, prefix)
	}
	return pkg == prefix || strings.HasPrefix(pkg, prefix+"/")
}
