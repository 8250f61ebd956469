package plugin

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/loadstar/loadstar/engine/errext"
)

// Problem is one validation failure: the plugin (category and name) or, for
// a manifest-level problem, an empty category and the manifest file as name.
type Problem struct {
	Category Category
	Name     string
	Err      error
}

// Report is the result of Validate, grouped as {category: [(name, error)]}.
type Report struct {
	Problems []Problem
	// Checked counts the entries examined.
	Checked int
}

// OK reports whether nothing is wrong.
func (r Report) OK() bool { return len(r.Problems) == 0 }

// ManifestGroup is the group name of manifest-level problems.
const ManifestGroup = "manifests"

// ByCategory groups the problems: category (or "manifests") → problems.
func (r Report) ByCategory() map[string][]Problem {
	out := map[string][]Problem{}
	for _, p := range r.Problems {
		g := string(p.Category)
		if g == "" {
			g = ManifestGroup
		}
		out[g] = append(out[g], p)
	}
	return out
}

// MarshalJSON writes {"category": [["name", "error"], ...], ...}.
func (r Report) MarshalJSON() ([]byte, error) {
	groups := r.ByCategory()
	out := make(map[string][][2]string, len(groups))
	for g, ps := range groups {
		for _, p := range ps {
			out[g] = append(out[g], [2]string{p.Name, p.Err.Error()})
		}
	}
	return json.Marshal(out)
}

// String renders the report as `{category: [(name, error)]}` lines.
func (r Report) String() string {
	if r.OK() {
		return fmt.Sprintf("all %d plugins valid", r.Checked)
	}
	groups := r.ByCategory()
	keys := make([]string, 0, len(groups))
	for k := range groups {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s:\n", k)
		for _, p := range groups[k] {
			fmt.Fprintf(&b, "  (%s, %v)\n", p.Name, p.Err)
		}
	}
	return b.String()
}

// Err returns nil when the report is clean, else an error with exit code
// errext.PluginError summarising it.
func (r Report) Err() error {
	if r.OK() {
		return nil
	}
	return errext.Errorf(errext.PluginError, "%d plugin problem(s) found", len(r.Problems))
}

// Validate checks every manifest and plugin without running plugin code:
// the manifests parsed cleanly, every `go:` class is bound, and every
// Starlark class file parses and defines its symbol with the category's
// arity. Shadowed entries are checked too.
func (r *Registry) Validate() Report {
	r.mu.RLock()
	rep := Report{Problems: append([]Problem(nil), r.st.problems...)}
	var all []*Entry
	for _, c := range r.cats.List {
		all = append(all, r.st.entries[c.Name]...)
	}
	r.mu.RUnlock()
	for _, e := range all {
		rep.Checked++
		if err := r.checkEntry(e); err != nil {
			rep.Problems = append(rep.Problems, Problem{Category: e.Category, Name: e.Name, Err: err})
		}
	}
	return rep
}

func (r *Registry) checkEntry(e *Entry) error {
	if e.class != nil { // registered from Go
		return nil
	}
	switch e.path.Kind {
	case GoClass:
		if r.resolver.goClasses[e.Class] == nil {
			return fmt.Errorf("%s: class %s is not bound in engine/catalog or internal/outputs (package %s has no Classes()[%q])", e.Where(), e.Class, e.path.Package, e.path.Name)
		}
		return nil
	case ScriptClass:
		if r.resolver.scripts == nil {
			return fmt.Errorf("%s: Starlark class %s cannot be checked: no script loader", e.Where(), e.Class)
		}
		if err := r.resolver.scripts.Check(e); err != nil {
			return fmt.Errorf("%s: %w", e.Where(), err)
		}
		return nil
	}
	return fmt.Errorf("%s: bad class path %q", e.Where(), e.Class)
}
