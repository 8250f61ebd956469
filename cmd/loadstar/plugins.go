package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/loadstar/loadstar/engine/errext"
	"github.com/loadstar/loadstar/engine/ordered"
	"github.com/loadstar/loadstar/engine/plugin"
	"github.com/loadstar/loadstar/internal/outputs"
)

// PluginsCmd lists, describes and validates plugins.
type PluginsCmd struct {
	Category string   `arg:"" optional:"" help:"Category to list, e.g. endpoint or timing_strategy (its Starlark namespace, e.g. timing, works too)."`
	Name     string   `arg:"" optional:"" help:"Plugin to describe (a name, or a class path to reach a shadowed plugin)."`
	Packages bool     `help:"List the plugin packages: versions and where they were found."`
	Validate bool     `help:"Check every manifest and plugin without running plugin code; exit code 9 when anything is wrong."`
	JSON     bool     `name:"json" help:"Print JSON instead of text."`
	Plugins  []string `name:"plugins" placeholder:"DIR" help:"Plugin package folder, or a folder of packages (repeatable). Also found: LOADSTAR_PLUGINS (a path list) and ./loadstar_plugins/*/."`
}

// PluginRegistry builds the registry a command uses: the built-in plugins,
// then the packages of the --plugins folders, LOADSTAR_PLUGINS and
// ./loadstar_plugins/*/. Problems (a missing folder, a broken manifest) come
// back as one error with exit code errext.PluginError; the registry is
// still usable for whatever is valid.
func PluginRegistry(app *App, dirs []string) (*plugin.Registry, error) {
	reg, derr, lerr := loadPlugins(app, dirs)
	if derr == nil {
		return reg, lerr
	}
	if lerr != nil {
		derr = errors.Join(derr, lerr)
	}
	return reg, errext.WithExitCode(derr, errext.PluginError)
}

// loadPlugins discovers packages and builds the registry, keeping
// discovery and manifest problems apart.
func loadPlugins(app *App, dirs []string) (reg *plugin.Registry, discoverErr, loadErr error) {
	wd, _ := os.Getwd()
	found, derr := plugin.Discover(dirs, os.Getenv(plugin.EnvPlugins), wd)
	for _, p := range found {
		if p.Source == plugin.LocalPluginsSource {
			// Code from the working directory is never loaded silently.
			app.Logger.Info("loading plugin package from the working directory", "dir", p.Dir)
		}
	}
	reg, lerr := outputs.NewRegistry(plugin.WithPackages(found...), plugin.WithLogger(app.Logger), plugin.WithBuiltinVersion(binaryVersion()))
	return reg, derr, lerr
}

// binaryVersion is the version reported for the built-in plugin package.
func binaryVersion() string {
	v := Version
	if v == "dev" {
		if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			v = bi.Main.Version
		}
	}
	return strings.TrimPrefix(v, "v")
}

// Run implements the command.
func (c *PluginsCmd) Run(g *Globals, app *App) error {
	reg, derr, lerr := loadPlugins(app, c.Plugins)
	if reg == nil {
		return errext.WithExitCode(lerr, errext.PluginError)
	}
	if c.Validate {
		return c.validate(app, reg, derr)
	}
	// Listing goes on with whatever is valid; problems are reported once.
	if derr != nil {
		app.Logger.Warn("plugin packages: " + derr.Error())
	}
	if lerr != nil {
		app.Logger.Warn("plugin manifests have problems; run `loadstar plugins --validate`", "error", lerr.Error())
	}
	switch {
	case c.Packages:
		return c.listPackages(app.Stdout, reg)
	case c.Category == "":
		return c.listAll(app.Stdout, reg)
	}
	cat, err := findCategory(reg, c.Category)
	if err != nil {
		return err
	}
	if c.Name == "" {
		return c.listCategory(app.Stdout, reg, cat)
	}
	return c.describe(app.Stdout, reg, cat, c.Name)
}

// findCategory accepts a category name or its namespace, '-' or '_'.
func findCategory(reg *plugin.Registry, name string) (*plugin.CategoryInfo, error) {
	n := plugin.Normalize(strings.ToLower(name))
	for _, c := range reg.Categories() {
		if string(c.Name) == n || c.Namespace == n {
			return c, nil
		}
	}
	names := make([]string, 0, len(reg.Categories()))
	for _, c := range reg.Categories() {
		names = append(names, string(c.Name))
	}
	return nil, errext.WithExitCode(fmt.Errorf("unknown plugin category %q (categories: %s)", name, strings.Join(names, ", ")), errext.Usage)
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// pluginJSON is one plugin in JSON output.
type pluginJSON struct {
	Name        string       `json:"name"`
	Category    string       `json:"category"`
	Class       string       `json:"class"`
	FullClass   string       `json:"full_class"`
	Package     string       `json:"package"`
	Priority    int          `json:"priority"`
	Description string       `json:"description"`
	Metadata    *ordered.Map `json:"metadata"`
	Where       string       `json:"declared_at"`
	Active      bool         `json:"active"`
}

func entryJSON(reg *plugin.Registry, e *plugin.Entry) pluginJSON {
	md := e.Metadata
	if md == nil {
		md = ordered.New(0)
	}
	return pluginJSON{Name: e.Name, Category: string(e.Category), Class: e.Class, FullClass: e.FullClass(),
		Package: e.Package.Name, Priority: e.Priority, Description: e.Description, Metadata: md,
		Where: e.Where(), Active: reg.IsActive(e)}
}

func (c *PluginsCmd) listAll(w io.Writer, reg *plugin.Registry) error {
	if c.JSON {
		type catJSON struct {
			Name        string       `json:"name"`
			Namespace   string       `json:"namespace,omitempty"`
			Protocol    string       `json:"protocol"`
			Enum        string       `json:"enum"`
			Internal    bool         `json:"internal"`
			Description string       `json:"description"`
			Plugins     []pluginJSON `json:"plugins"`
		}
		out := []catJSON{}
		for _, cat := range reg.Categories() {
			cj := catJSON{Name: string(cat.Name), Protocol: cat.Protocol, Enum: cat.Enum, Internal: cat.Internal, Description: cat.Description, Plugins: []pluginJSON{}}
			if !cat.Internal {
				cj.Namespace = cat.Namespace
			}
			for _, e := range reg.All(cat.Name) {
				cj.Plugins = append(cj.Plugins, entryJSON(reg, e))
			}
			out = append(out, cj)
		}
		return writeJSON(w, map[string]any{"categories": out})
	}
	for i, cat := range reg.Categories() {
		if i > 0 {
			fmt.Fprintln(w)
		}
		names := reg.Names(cat.Name)
		where := cat.Namespace + ".<name>(...)"
		if cat.Internal {
			where = "internal"
		}
		fmt.Fprintf(w, "%s (%s): %d\n", cat.Name, where, len(names))
		if len(names) == 0 {
			fmt.Fprintln(w, "  (none)")
			continue
		}
		for _, line := range wrap(strings.Join(names, ", "), 96) {
			fmt.Fprintf(w, "  %s\n", line)
		}
	}
	fmt.Fprintf(w, "\n`loadstar plugins CATEGORY` describes a category's plugins; `loadstar plugins CATEGORY NAME` one plugin.\n")
	return nil
}

func (c *PluginsCmd) listCategory(w io.Writer, reg *plugin.Registry, cat *plugin.CategoryInfo) error {
	entries := reg.All(cat.Name)
	if c.JSON {
		out := []pluginJSON{}
		for _, e := range entries {
			out = append(out, entryJSON(reg, e))
		}
		return writeJSON(w, map[string]any{"category": cat.Name, "description": cat.Description, "protocol": cat.Protocol, "plugins": out})
	}
	fmt.Fprintf(w, "%s: %s\n", cat.Name, cat.Description)
	if !cat.Internal {
		fmt.Fprintf(w, "Starlark: %s.<name>(...)   Go protocol: %s\n", cat.Namespace, cat.Protocol)
	} else {
		fmt.Fprintf(w, "Internal category (no Starlark namespace)   Go protocol: %s\n", cat.Protocol)
	}
	fmt.Fprintln(w)
	if len(entries) == 0 {
		fmt.Fprintln(w, "No plugins registered.")
		return nil
	}
	width := 0
	for _, e := range entries {
		width = max(width, len(e.Name))
	}
	for _, e := range entries {
		desc := e.Description
		if !e.Package.Builtin {
			desc += " [package " + e.Package.Name + "]"
		}
		if n := len(reg.Candidates(cat.Name, e.Name)); n > 1 {
			desc += fmt.Sprintf(" (shadows %d)", n-1)
		}
		lines := wrap(desc, max(40, 100-width-4))
		if len(lines) == 0 {
			lines = []string{""}
		}
		fmt.Fprintf(w, "  %-*s  %s\n", width, e.Name, lines[0])
		for _, l := range lines[1:] {
			fmt.Fprintf(w, "  %-*s  %s\n", width, "", l)
		}
	}
	return nil
}

// paramJSON describes one constructor parameter.
type paramJSON struct {
	Name     string   `json:"name"`
	Type     string   `json:"type"`
	Required bool     `json:"required,omitempty"`
	Default  any      `json:"default,omitempty"`
	Choices  []string `json:"choices,omitempty"`
	Doc      string   `json:"doc"`
}

func (c *PluginsCmd) describe(w io.Writer, reg *plugin.Registry, cat *plugin.CategoryInfo, name string) error {
	e, err := reg.Lookup(cat.Name, name)
	if err != nil {
		return err
	}
	class, classErr := e.Resolve()
	var shadows []*plugin.Entry
	if reg.IsActive(e) {
		shadows = reg.Candidates(cat.Name, e.Name)[1:]
	}
	if c.JSON {
		return writeJSON(w, describeJSON(reg, e, class, classErr, shadows))
	}
	p := &panel{}
	p.add("Type: %s", e.Name)
	p.add("Category: %s", e.Category)
	pkg := e.Package
	p.add("Package: %s %s", pkg.Name, pkg.Version)
	if !pkg.Builtin {
		p.wrapped("Found via: ", pkg.Source+" "+pkg.Dir)
	}
	p.wrapped("Class: ", e.FullClass())
	p.add("Priority: %d", e.Priority)
	if !cat.Internal {
		p.add("Starlark: %s.%s(...)", cat.Namespace, e.Name)
	}
	if e.Description != "" {
		p.add("")
		p.wrapped("", e.Description)
	}
	if e.Metadata != nil && e.Metadata.Len() > 0 {
		p.add("")
		p.add("Metadata:")
		for _, k := range e.Metadata.Keys() {
			v, _ := e.Metadata.Get(k)
			p.wrapped("  ", k+": "+metadataText(v))
		}
	}
	p.add("")
	p.params(class, classErr)
	if len(shadows) > 0 {
		p.add("")
		p.add("Shadows (reachable by class path):")
		for _, s := range shadows {
			p.wrapped("  ", fmt.Sprintf("%s (package %s, priority %d)", s.FullClass(), s.Package.Name, s.Priority))
		}
	} else if !reg.IsActive(e) {
		p.add("")
		p.wrapped("", "Shadowed: the name "+e.Name+" resolves to another plugin; this one is reachable by its class path.")
	}
	box(w, string(cat.Name)+":"+e.Name, p.lines)
	return nil
}

// describeJSON is one plugin's description for --json.
func describeJSON(reg *plugin.Registry, e *plugin.Entry, class *plugin.Class, classErr error, shadows []*plugin.Entry) any {
	out := struct {
		pluginJSON
		PackageInfo map[string]any `json:"package_info"`
		Params      []paramJSON    `json:"params"`
		ClassError  string         `json:"class_error,omitempty"`
		Shadows     []pluginJSON   `json:"shadows"`
	}{pluginJSON: entryJSON(reg, e), Params: []paramJSON{}, Shadows: []pluginJSON{}}
	p := e.Package
	out.PackageInfo = map[string]any{"name": p.Name, "version": p.Version, "description": p.Description, "source": p.Source, "dir": p.Dir, "manifest": p.Manifest}
	if classErr != nil {
		out.ClassError = classErr.Error()
	} else {
		for _, p := range class.Params {
			pj := paramJSON{Name: p.Name, Type: p.Describe(), Required: p.Required, Choices: p.Choices, Doc: p.Doc}
			if p.Default != nil {
				pj.Default = defaultText(p)
			}
			out.Params = append(out.Params, pj)
		}
	}
	for _, s := range shadows {
		out.Shadows = append(out.Shadows, entryJSON(reg, s))
	}
	return out
}

// panel collects the lines of a plugin's description panel.
type panel struct{ lines []string }

// panelWidth is the text width inside the panel.
const panelWidth = 88

func (p *panel) add(format string, args ...any) {
	p.lines = append(p.lines, fmt.Sprintf(format, args...))
}

// wrapped wraps text after label; continuation lines are indented to the
// label's width.
func (p *panel) wrapped(label, text string) {
	pad := strings.Repeat(" ", utf8.RuneCountInString(label))
	for i, l := range wrap(text, panelWidth-len(pad)) {
		if i == 0 {
			p.lines = append(p.lines, label+l)
		} else {
			p.lines = append(p.lines, pad+l)
		}
	}
}

// params lists a class's parameters, or why they are unavailable.
func (p *panel) params(class *plugin.Class, classErr error) {
	switch {
	case classErr != nil:
		p.add("Parameters: unavailable, the class cannot be loaded:")
		p.wrapped("  ", classErr.Error())
	case len(class.Params) == 0:
		p.add("Parameters: none")
	default:
		p.add("Parameters:")
		for _, prm := range class.Params {
			head := prm.Name + " (" + prm.Describe()
			if prm.Required {
				head += ", required"
			} else if prm.Default != nil {
				head += ", default " + defaultText(prm)
			}
			head += ")"
			p.wrapped("  ", head)
			if prm.Doc != "" {
				p.wrapped("      ", prm.Doc)
			}
		}
	}
}

// box draws lines in a rounded panel titled title, as
// `aiperf plugins endpoint chat` does.
func box(w io.Writer, title string, lines []string) {
	width := utf8.RuneCountInString(title) + 4
	for _, l := range lines {
		width = max(width, utf8.RuneCountInString(l))
	}
	t := " " + title + " "
	left := (width + 2 - utf8.RuneCountInString(t)) / 2
	right := width + 2 - utf8.RuneCountInString(t) - left
	fmt.Fprintf(w, "╭%s%s%s╮\n", strings.Repeat("─", left), t, strings.Repeat("─", right))
	for _, l := range lines {
		fmt.Fprintf(w, "│ %s%s │\n", l, strings.Repeat(" ", width-utf8.RuneCountInString(l)))
	}
	fmt.Fprintf(w, "╰%s╯\n", strings.Repeat("─", width+2))
}

// wrap splits text into lines of at most width runes at spaces (a longer
// word gets a line of its own).
func wrap(text string, width int) []string {
	var lines []string
	for _, para := range strings.Split(text, "\n") {
		cur := ""
		for _, word := range strings.Fields(para) {
			switch {
			case cur == "":
				cur = word
			case utf8.RuneCountInString(cur)+1+utf8.RuneCountInString(word) <= width:
				cur += " " + word
			default:
				lines = append(lines, cur)
				cur = word
			}
		}
		if cur != "" {
			lines = append(lines, cur)
		}
	}
	return lines
}

func (c *PluginsCmd) listPackages(w io.Writer, reg *plugin.Registry) error {
	counts := map[*plugin.Package]int{}
	for _, cat := range reg.Categories() {
		for _, e := range reg.Entries(cat.Name) {
			counts[e.Package]++
		}
	}
	pkgs := reg.Packages()
	if c.JSON {
		out := []map[string]any{}
		for _, p := range pkgs {
			out = append(out, map[string]any{"name": p.Name, "version": p.Version, "description": p.Description,
				"source": p.Source, "dir": p.Dir, "manifest": p.Manifest, "builtin": p.Builtin, "plugins": counts[p]})
		}
		return writeJSON(w, map[string]any{"packages": out})
	}
	rows := [][]string{{"PACKAGE", "VERSION", "PLUGINS", "FOUND VIA", "LOCATION"}}
	for _, p := range pkgs {
		loc := p.Dir
		if p.Builtin {
			loc = "(built into the binary)"
		}
		rows = append(rows, []string{p.Name, p.Version, fmt.Sprint(counts[p]), p.Source, loc})
	}
	widths := make([]int, len(rows[0]))
	for _, r := range rows {
		for i, cell := range r {
			widths[i] = max(widths[i], utf8.RuneCountInString(cell))
		}
	}
	for _, r := range rows {
		var b strings.Builder
		for i, cell := range r {
			if i == len(r)-1 {
				b.WriteString(cell)
				break
			}
			b.WriteString(cell + strings.Repeat(" ", widths[i]-utf8.RuneCountInString(cell)+2))
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
	}
	for _, p := range pkgs {
		if p.Description != "" {
			fmt.Fprintf(w, "\n%s: %s", p.Name, p.Description)
		}
	}
	fmt.Fprintln(w)
	return nil
}

func (c *PluginsCmd) validate(app *App, reg *plugin.Registry, discoverErr error) error {
	rep := reg.Validate()
	if discoverErr != nil {
		for _, e := range unwrapAll(discoverErr) {
			rep.Problems = append(rep.Problems, plugin.Problem{Name: "--plugins", Err: e})
		}
	}
	if c.JSON {
		if err := writeJSON(app.Stdout, map[string]any{"ok": rep.OK(), "checked": rep.Checked, "problems": json.RawMessage(mustJSON(rep))}); err != nil {
			return err
		}
	} else if rep.OK() {
		fmt.Fprintf(app.Stdout, "OK: %d plugins in %d packages valid\n", rep.Checked, len(reg.Packages()))
	} else {
		groups := rep.ByCategory()
		keys := make([]string, 0, len(groups))
		for k := range groups {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(app.Stdout, "%s:\n", k)
			for _, p := range groups[k] {
				msg := strings.ReplaceAll(p.Err.Error(), "\n", "\n      ")
				fmt.Fprintf(app.Stdout, "  (%s, %s)\n", p.Name, msg)
			}
		}
	}
	if !rep.OK() {
		return errext.WithHint(errext.Errorf(errext.PluginError, "plugins --validate: %d problem(s) in %d checked plugins", len(rep.Problems), rep.Checked),
			"see docs/plugins.md#troubleshooting")
	}
	return nil
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		return []byte("null")
	}
	return b
}

func unwrapAll(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

// defaultText renders a parameter's default as Starlark. Only a string
// default of a secret-looking name is redacted (a bool default of
// use_legacy_max_tokens is no secret).
func defaultText(p plugin.Param) string {
	if _, isString := p.Default.(string); isString {
		return plugin.FormatValue(p.Name, p.Default)
	}
	return plugin.FormatValue("", p.Default)
}

// metadataText renders a metadata value as the manifest writes it.
func metadataText(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case []string:
		return "[" + strings.Join(x, ", ") + "]"
	}
	return fmt.Sprint(v)
}
