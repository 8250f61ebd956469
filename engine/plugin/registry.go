package plugin

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"runtime/debug"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/loadstar/loadstar/engine/errext"
	"github.com/loadstar/loadstar/engine/ordered"
)

// Package is a set of plugins declared by one plugins.yaml: the built-in
// package "loadstar", an external package folder, or "runtime" for plugins
// registered from Go code.
type Package struct {
	Name        string
	Version     string
	Description string
	// Dir is the package folder (absolute), "" for the built-in package.
	Dir string
	// Manifest is the plugins.yaml path as reported in messages.
	Manifest string
	// Source says where the package was found: "built-in", "--plugins",
	// "LOADSTAR_PLUGINS", "./loadstar_plugins" or "runtime".
	Source  string
	Builtin bool
}

// Entry is one registered plugin. Its Class is resolved on first use and
// cached; for a Starlark plugin that is when its .star file is first read.
type Entry struct {
	Category    Category
	Name        string // canonical (normalised) name
	Class       string // class path as the manifest wrote it
	Description string
	Priority    int
	Metadata    *ordered.Map
	Package     *Package
	Line        int // line in Package.Manifest, 0 if registered from Go

	path     ClassPath
	resolver *resolver
	once     sync.Once
	class    *Class
	classErr error
}

// FullClass is the class path that names this entry unambiguously: Go
// classes as written, Starlark ones prefixed with their package,
// `@<package>//<file>.star:<symbol>`.
func (e *Entry) FullClass() string {
	if e.path.Kind == ScriptClass {
		return "@" + e.Package.Name + "//" + e.Class
	}
	return e.Class
}

// ClassPath returns the parsed class path.
func (e *Entry) ClassPath() ClassPath { return e.path }

// ScriptFile returns the absolute path of a Starlark entry's .star file.
func (e *Entry) ScriptFile() string {
	if e.path.Kind != ScriptClass {
		return ""
	}
	return filepath.Join(e.Package.Dir, filepath.FromSlash(e.path.File))
}

// Ref names the entry in messages: "endpoint:chat".
func (e *Entry) Ref() string { return string(e.Category) + ":" + e.Name }

// Where locates the declaration: "file:line" or the package name.
func (e *Entry) Where() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d", e.Package.Manifest, e.Line)
	}
	return "package " + e.Package.Name
}

// Resolve returns the entry's Class, resolving it on first call.
func (e *Entry) Resolve() (*Class, error) {
	e.once.Do(func() {
		if e.class != nil {
			return
		}
		e.class, e.classErr = e.resolver.resolve(e)
	})
	return e.class, e.classErr
}

// ScriptLoader turns Starlark class paths into Classes. internal/starplugin
// implements it; the registry stays free of Starlark.
type ScriptLoader interface {
	// Check verifies an entry without executing plugin code: the file
	// parses and defines the symbol with the category's arity.
	Check(e *Entry) error
	// Load returns the entry's Class. It may read and parse the file but
	// must execute it only when Class.New is first called.
	Load(e *Entry) (*Class, error)
}

// resolver binds class paths; fixed at construction, shared by entries.
type resolver struct {
	goClasses map[string]*Class
	scripts   ScriptLoader
}

func (rv *resolver) resolve(e *Entry) (*Class, error) {
	switch e.path.Kind {
	case GoClass:
		if c := rv.goClasses[e.Class]; c != nil {
			return c, nil
		}
		return nil, &ClassNotFoundError{Entry: e, Reason: fmt.Sprintf("Go class %s is not bound: engine/catalog (engine classes) and internal/outputs (exporters, console, ui, plots) bind go: classes from each package's Classes() map (key %q in package %s)", e.Class, e.path.Name, e.path.Package)}
	case ScriptClass:
		if rv.scripts == nil {
			return nil, &ClassNotFoundError{Entry: e, Reason: "Starlark plugins need a script loader (build the registry with engine/catalog)"}
		}
		c, err := rv.scripts.Load(e)
		if err != nil {
			return nil, &ClassNotFoundError{Entry: e, Reason: err.Error(), Err: err}
		}
		return c, nil
	}
	return nil, &ClassNotFoundError{Entry: e, Reason: "bad class path"}
}

// TypeNotFoundError: no plugin of that name in the category.
type TypeNotFoundError struct {
	Category  Category
	Name      string
	Available []string
}

func (e *TypeNotFoundError) Error() string {
	avail := "none registered"
	if len(e.Available) > 0 {
		avail = "available: " + strings.Join(e.Available, ", ")
	}
	return fmt.Sprintf("type %q not found for category %q (%s)", e.Name, e.Category, avail)
}

// ExitCode makes a missing plugin a configuration error.
func (e *TypeNotFoundError) ExitCode() errext.ExitCode { return errext.InvalidConfig }

// Hint tells the user how to see what exists.
func (e *TypeNotFoundError) Hint() string {
	return fmt.Sprintf("run `loadstar plugins %s` to list them; an external package must be found via --plugins, LOADSTAR_PLUGINS or ./loadstar_plugins/ (check `loadstar plugins --packages`)", e.Category)
}

// ClassNotFoundError: the entry exists but its class cannot be loaded.
type ClassNotFoundError struct {
	Entry  *Entry
	Reason string
	Err    error
}

func (e *ClassNotFoundError) Error() string {
	return fmt.Sprintf("class %s of %s (%s) cannot be loaded: %s", e.Entry.Class, e.Entry.Ref(), e.Entry.Where(), e.Reason)
}

func (e *ClassNotFoundError) Unwrap() error { return e.Err }

// ExitCode: a broken plugin is a plugin error.
func (e *ClassNotFoundError) ExitCode() errext.ExitCode { return errext.PluginError }

// Hint points at the validator.
func (e *ClassNotFoundError) Hint() string {
	return "run `loadstar plugins --validate` for details"
}

// Option configures a Registry built by NewRegistry.
type Option func(*options)

type options struct {
	goClasses  map[string]*Class
	scripts    ScriptLoader
	log        *slog.Logger
	dirs       []PackageDir
	version    string
	builtin    []byte
	builtinSet bool
}

// WithGoClasses binds `go:` class names (e.g. "go:engine/endpoint.Chat").
// engine/catalog passes the engine packages' Classes(), internal/outputs
// those of the output packages.
func WithGoClasses(classes map[string]*Class) Option {
	return func(o *options) {
		for k, v := range classes {
			o.goClasses[k] = v
		}
	}
}

// WithScripts sets the loader of Starlark classes (internal/starplugin).
func WithScripts(l ScriptLoader) Option { return func(o *options) { o.scripts = l } }

// WithLogger sets where conflict warnings go (default: discarded; they are
// also kept in Warnings).
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

// WithPackages adds external plugin package folders, loaded in order after
// the built-in package (see Discover).
func WithPackages(dirs ...PackageDir) Option {
	return func(o *options) { o.dirs = append(o.dirs, dirs...) }
}

// WithBuiltinVersion sets the version reported for the built-in package.
func WithBuiltinVersion(v string) Option { return func(o *options) { o.version = v } }

// WithBuiltinManifest replaces the embedded plugins.yaml (tests; nil = no
// built-in plugins).
func WithBuiltinManifest(data []byte) Option {
	return func(o *options) { o.builtin, o.builtinSet = data, true }
}

// Registry holds every plugin by category and name. It is safe for
// concurrent use. Build one with NewRegistry (engine/catalog.New binds the
// Go classes and the Starlark loader) and pass it to what builds plugins:
// there is no process-wide registry.
type Registry struct {
	cats     *Categories
	resolver *resolver
	log      *slog.Logger

	mu      sync.RWMutex
	st      state
	initial state
	// built maps implementation types to entries for NameOf.
	built sync.Map // reflect.Type -> *Entry
}

// state is everything Register, Reset and snapshots change.
type state struct {
	entries  map[Category][]*Entry          // every entry, registration order
	winners  map[Category]map[string]*Entry // canonical name -> active entry
	order    map[Category][]string          // canonical names, first-registered order
	packages []*Package
	warnings []string
	problems []Problem // load problems (manifests, packages)
}

func (s *state) clone() state {
	c := state{
		entries:  make(map[Category][]*Entry, len(s.entries)),
		winners:  make(map[Category]map[string]*Entry, len(s.winners)),
		order:    make(map[Category][]string, len(s.order)),
		packages: slices.Clone(s.packages),
		warnings: slices.Clone(s.warnings),
		problems: slices.Clone(s.problems),
	}
	for k, v := range s.entries {
		c.entries[k] = slices.Clone(v)
	}
	for k, v := range s.winners {
		m := make(map[string]*Entry, len(v))
		for n, e := range v {
			m[n] = e
		}
		c.winners[k] = m
	}
	for k, v := range s.order {
		c.order[k] = slices.Clone(v)
	}
	return c
}

// NewRegistry builds a registry from the embedded categories and built-in
// manifest plus the given packages. Problems in manifests do not stop it: the
// registry holds whatever is valid, and the returned error (exit code
// errext.PluginError) lists every problem, as Validate does.
func NewRegistry(opts ...Option) (*Registry, error) {
	o := &options{goClasses: map[string]*Class{}, builtin: pluginsYAML}
	for _, opt := range opts {
		opt(o)
	}
	cats, err := BuiltinCategories()
	if err != nil {
		return nil, errext.WithExitCode(err, errext.PluginError)
	}
	if o.log == nil {
		o.log = slog.New(slog.DiscardHandler)
	} else if ls, ok := o.scripts.(interface{ SetLogger(*slog.Logger) }); ok {
		ls.SetLogger(o.log) // print() of plugin files goes where the registry logs
	}
	r := &Registry{
		cats:     cats,
		resolver: &resolver{goClasses: o.goClasses, scripts: o.scripts},
		log:      o.log,
	}
	r.st = state{entries: map[Category][]*Entry{}, winners: map[Category]map[string]*Entry{}, order: map[Category][]string{}}

	version := o.version
	if version == "" {
		version = buildVersion()
	}
	builtin := &Package{Name: "loadstar", Version: version, Description: "Built-in plugins of loadstar.",
		Manifest: BuiltinManifestFile, Source: "built-in", Builtin: true}
	if len(o.builtin) > 0 || !o.builtinSet {
		r.loadManifest(builtin, BuiltinManifestFile, o.builtin)
	} else {
		r.st.packages = append(r.st.packages, builtin)
	}
	for _, d := range o.dirs {
		r.loadPackageDir(d)
	}
	r.initial = r.st.clone()
	return r, r.loadError()
}

// buildVersion is the module version of the binary, "dev" when unknown.
func buildVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return strings.TrimPrefix(bi.Main.Version, "v")
	}
	return "dev"
}

func (r *Registry) loadError() error {
	if len(r.st.problems) == 0 {
		return nil
	}
	errs := make([]error, len(r.st.problems))
	for i, p := range r.st.problems {
		errs[i] = p.Err
	}
	return errext.WithHint(errext.WithExitCode(errors.Join(errs...), errext.PluginError),
		"run `loadstar plugins --validate` to see every problem")
}

func (r *Registry) problem(cat Category, name string, err error) {
	r.st.problems = append(r.st.problems, Problem{Category: cat, Name: name, Err: err})
}

// loadManifest parses one plugins.yaml and registers its entries under pkg.
func (r *Registry) loadManifest(pkg *Package, file string, data []byte) {
	m, err := ParseManifest(file, data, r.cats)
	if err != nil {
		for _, e := range unjoin(err) {
			r.problem("", file, e)
		}
	}
	if !pkg.Builtin {
		if m.Package.Name == "" {
			r.problem("", file, &ManifestError{File: file, Line: 1, Key: "package.name", Msg: "missing: an external package needs package: {name, version, description}"})
			return
		}
		pkg.Name, pkg.Version, pkg.Description = m.Package.Name, m.Package.Version, m.Package.Description
		if pkg.Version == "" {
			pkg.Version = "0.0.0"
		}
		for _, p := range r.st.packages {
			if p.Name == pkg.Name {
				r.problem("", file, &ManifestError{File: file, Key: "package.name",
					Msg: fmt.Sprintf("package %q is already loaded from %s; skipping this copy", pkg.Name, p.Manifest)})
				return
			}
		}
	} else if m.Package.Description != "" {
		pkg.Description = m.Package.Description
	}
	r.st.packages = append(r.st.packages, pkg)
	for _, me := range m.Entries {
		path, _ := ParseClassPath(me.Class) // checked by ParseManifest
		if pkg.Builtin && path.Kind == ScriptClass {
			r.problem(me.Category, me.Name, &ManifestError{File: file, Line: me.Line, Key: string(me.Category) + "." + me.Name + ".class",
				Msg: "built-in plugins must be Go classes (go:...)"})
			continue
		}
		r.add(&Entry{
			Category: me.Category, Name: Normalize(me.Name), Class: me.Class,
			Description: me.Description, Priority: me.Priority, Metadata: me.Metadata,
			Package: pkg, Line: me.Line, path: path, resolver: r.resolver,
		})
	}
}

func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

// add registers e, applying the conflict rules:
//  1. the higher priority wins;
//  2. at equal priority an external package beats the built-in one;
//  3. otherwise the first registered wins, with a warning naming both.
//
// The loser stays reachable by its full class path.
func (r *Registry) add(e *Entry) {
	cat := e.Category
	r.st.entries[cat] = append(r.st.entries[cat], e)
	w := r.st.winners[cat]
	if w == nil {
		w = map[string]*Entry{}
		r.st.winners[cat] = w
	}
	cur := w[e.Name]
	if cur == nil {
		w[e.Name] = e
		r.st.order[cat] = append(r.st.order[cat], e.Name)
		return
	}
	describe := func(x *Entry) string {
		return fmt.Sprintf("%s (package %s, priority %d, %s)", x.FullClass(), x.Package.Name, x.Priority, x.Where())
	}
	switch {
	case e.Priority > cur.Priority:
		w[e.Name] = e
		r.shadowed(e, cur, describe)
	case e.Priority < cur.Priority:
		r.log.Debug("plugin shadowed by higher priority", "plugin", e.Ref(), "winner", describe(cur), "shadowed", describe(e))
	case !e.Package.Builtin && cur.Package.Builtin:
		w[e.Name] = e
		r.shadowed(e, cur, describe)
	case e.Package.Builtin && !cur.Package.Builtin:
		r.log.Debug("built-in plugin shadowed by external package", "plugin", e.Ref(), "winner", describe(cur), "shadowed", describe(e))
	default:
		msg := fmt.Sprintf("%s is registered twice with priority %d: %s wins over %s (first registered); raise one priority to choose",
			e.Ref(), e.Priority, describe(cur), describe(e))
		r.st.warnings = append(r.st.warnings, msg)
		r.log.Warn(msg)
	}
}

// shadowed reports that winner replaces loser: a warning when an external
// package replaces a built-in plugin (a ./loadstar_plugins/ folder in the
// working directory must not change what a name means silently), a debug
// message otherwise.
func (r *Registry) shadowed(winner, loser *Entry, describe func(*Entry) string) {
	if loser.Package.Builtin && !winner.Package.Builtin {
		r.log.Warn(fmt.Sprintf("plugin %s: the built-in one is replaced by package %s (%s); the built-in stays reachable by its class path %s",
			winner.Ref(), winner.Package.Name, winner.Where(), loser.FullClass()))
		return
	}
	r.log.Debug("plugin overridden by higher priority", "plugin", winner.Ref(), "winner", describe(winner), "shadowed", describe(loser))
}

// Categories returns the categories in categories.yaml order.
func (r *Registry) Categories() []*CategoryInfo { return r.cats.List }

// Category returns a category's description.
func (r *Registry) Category(c Category) (*CategoryInfo, bool) { return r.cats.Get(c) }

func (r *Registry) category(c Category) (*CategoryInfo, error) {
	info, ok := r.cats.Get(c)
	if !ok {
		return nil, errext.WithExitCode(fmt.Errorf("unknown plugin category %q (categories: %s)", c, strings.Join(r.cats.Names(), ", ")), errext.InvalidConfig)
	}
	return info, nil
}

// isClassPath reports whether s is a class path rather than a plugin name.
func isClassPath(s string) bool { return strings.Contains(s, ":") }

// Lookup returns the active entry called name in category, or the entry
// whose class path is name (which reaches shadowed plugins too). It does not
// load the class.
func (r *Registry) Lookup(cat Category, name string) (*Entry, error) {
	if _, err := r.category(cat); err != nil {
		return nil, err
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	if isClassPath(name) {
		return r.byClassLocked(cat, name)
	}
	if e := r.st.winners[cat][Normalize(name)]; e != nil {
		return e, nil
	}
	return nil, &TypeNotFoundError{Category: cat, Name: name, Available: slices.Clone(r.st.order[cat])}
}

func (r *Registry) byClassLocked(cat Category, class string) (*Entry, error) {
	var exact, plain []*Entry
	for _, e := range r.st.entries[cat] {
		switch class {
		case e.FullClass():
			exact = append(exact, e)
		case e.Class:
			plain = append(plain, e)
		}
	}
	if len(exact) > 0 {
		return exact[len(exact)-1], nil // a runtime re-registration of the same class wins
	}
	switch len(plain) {
	case 0:
		return nil, &TypeNotFoundError{Category: cat, Name: class, Available: r.classesLocked(cat)}
	case 1:
		return plain[0], nil
	}
	full := make([]string, len(plain))
	for i, e := range plain {
		full[i] = e.FullClass()
	}
	return nil, errext.WithExitCode(fmt.Errorf("class %q is ambiguous in category %q: use one of %s", class, cat, strings.Join(full, ", ")), errext.InvalidConfig)
}

func (r *Registry) classesLocked(cat Category) []string {
	var out []string
	for _, e := range r.st.entries[cat] {
		out = append(out, e.FullClass())
	}
	return out
}

// Get returns the Class of the plugin called name (or with class path name)
// in category, loading it on first use.
func (r *Registry) Get(cat Category, name string) (*Class, error) {
	e, err := r.Lookup(cat, name)
	if err != nil {
		return nil, err
	}
	return e.Resolve()
}

// All returns the active plugins of a category in registration order (a
// plugin overridden later keeps the position of the name's first entry).
func (r *Registry) All(cat Category) []*Entry {
	r.mu.RLock()
	defer r.mu.RUnlock()
	names := r.st.order[cat]
	out := make([]*Entry, 0, len(names))
	for _, n := range names {
		out = append(out, r.st.winners[cat][n])
	}
	return out
}

// Names returns the active plugin names of a category, in order.
func (r *Registry) Names(cat Category) []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return slices.Clone(r.st.order[cat])
}

// Candidates returns every entry registered under name in category, the
// active one first, then the shadowed ones in registration order.
func (r *Registry) Candidates(cat Category, name string) []*Entry {
	r.mu.RLock()
	defer r.mu.RUnlock()
	key := Normalize(name)
	win := r.st.winners[cat][key]
	if win == nil {
		return nil
	}
	out := []*Entry{win}
	for _, e := range r.st.entries[cat] {
		if e.Name == key && e != win {
			out = append(out, e)
		}
	}
	return out
}

// Entries returns every entry of a category, shadowed ones included, in
// registration order.
func (r *Registry) Entries(cat Category) []*Entry {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return slices.Clone(r.st.entries[cat])
}

// IsActive reports whether e is the entry its name resolves to.
func (r *Registry) IsActive(e *Entry) bool {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.st.winners[e.Category][e.Name] == e
}

// Packages returns the loaded packages: the built-in one first, then
// external ones in discovery order, then "runtime" if anything was
// registered from Go.
func (r *Registry) Packages() []*Package {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return slices.Clone(r.st.packages)
}

// Package returns the package called name.
func (r *Registry) Package(name string) (*Package, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	for _, p := range r.st.packages {
		if p.Name == name {
			return p, true
		}
	}
	return nil, false
}

// Warnings returns the conflict warnings (equal priorities) so far.
func (r *Registry) Warnings() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return slices.Clone(r.st.warnings)
}

// Metadata returns a plugin's metadata as the manifest gives it (values
// typed per the category schema).
func (r *Registry) Metadata(cat Category, name string) (*ordered.Map, error) {
	e, err := r.Lookup(cat, name)
	if err != nil {
		return nil, err
	}
	return e.Metadata, nil
}

// Build constructs the implementation a spec describes: it resolves the
// class and calls its Build (arguments checked, defaults filled in, New
// called). The implementation's type is remembered for NameOf.
func (r *Registry) Build(s *Spec) (any, error) {
	if s == nil {
		return nil, errors.New("plugin: nil spec")
	}
	e, err := r.Lookup(s.Category, s.Name)
	if err != nil {
		return nil, err
	}
	c, err := e.Resolve()
	if err != nil {
		return nil, err
	}
	v, err := c.Build(Namespace(s.Category)+"."+e.Name, s.Args)
	if err != nil {
		return nil, err
	}
	if v != nil {
		r.built.LoadOrStore(reflect.TypeOf(v), e)
	}
	return v, nil
}

// NameOf is the reverse lookup: the registered name of an implementation in
// category. impl is a *Class, or a value built by Build (matched by type).
func (r *Registry) NameOf(cat Category, impl any) (string, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if c, ok := impl.(*Class); ok {
		for _, n := range r.st.order[cat] {
			e := r.st.winners[cat][n]
			if got, err := e.Resolve(); err == nil && got == c {
				return n, true
			}
		}
		return "", false
	}
	if impl == nil {
		return "", false
	}
	v, ok := r.built.Load(reflect.TypeOf(impl))
	if !ok {
		return "", false
	}
	e := v.(*Entry)
	if e.Category != cat {
		return "", false
	}
	return e.Name, true
}

// RegisterOption sets a property of a plugin registered from Go.
type RegisterOption func(*Entry)

// Priority sets the priority of a registered plugin (default 0).
func Priority(p int) RegisterOption { return func(e *Entry) { e.Priority = p } }

// Describe sets the one-line description of a registered plugin.
func Describe(d string) RegisterOption { return func(e *Entry) { e.Description = d } }

// WithMetadata sets the metadata of a registered plugin; it is checked
// against the category's schema.
func WithMetadata(md map[string]any) RegisterOption {
	return func(e *Entry) {
		m := ordered.New(len(md))
		keys := make([]string, 0, len(md))
		for k := range md {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			m.Set(k, md[k])
		}
		e.Metadata = m
	}
}

// Register adds a plugin at run time, under the package "runtime", which
// counts as external for conflict resolution. Metadata is checked against
// the category's schema, but required fields may be left out (they read as
// zero values). Tests undo it with Reset or a Snapshot.
func (r *Registry) Register(cat Category, name string, class *Class, opts ...RegisterOption) error {
	info, err := r.category(cat)
	if err != nil {
		return err
	}
	if err := checkName(name); err != nil {
		return err
	}
	if class == nil || class.New == nil {
		return fmt.Errorf("register %s:%s: class with a New function required", cat, name)
	}
	e := &Entry{Category: cat, Name: Normalize(name), class: class}
	for _, o := range opts {
		o(e)
	}
	if e.Class == "" {
		e.Class = "runtime:" + string(cat) + "." + e.Name
	}
	md := map[string]any{}
	if e.Metadata != nil {
		for _, k := range e.Metadata.Keys() {
			md[k], _ = e.Metadata.Get(k)
		}
	}
	if e.Metadata, err = checkMetadata(info, md, true); err != nil {
		return fmt.Errorf("register %s:%s: %w", cat, name, err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	var pkg *Package
	for _, p := range r.st.packages {
		if p.Name == "runtime" && p.Source == "runtime" {
			pkg = p
		}
	}
	if pkg == nil {
		pkg = &Package{Name: "runtime", Version: "-", Description: "Plugins registered from Go code at run time.", Manifest: "(runtime)", Source: "runtime"}
		r.st.packages = append(r.st.packages, pkg)
	}
	e.Package = pkg
	r.add(e)
	return nil
}

// Reset restores the registry to its state right after NewRegistry,
// dropping plugins registered (or mocked) since.
func (r *Registry) Reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.st = r.initial.clone()
}

// Snapshot records the current state and returns a function restoring it.
func (r *Registry) Snapshot() (restore func()) {
	r.mu.RLock()
	s := r.st.clone()
	r.mu.RUnlock()
	return func() {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.st = s.clone()
	}
}

// PackageDir is a plugin package folder and where it was found.
type PackageDir struct {
	Dir    string
	Source string
}

// loadPackageDir reads DIR/plugins.yaml as an external package.
func (r *Registry) loadPackageDir(d PackageDir) {
	abs, err := filepath.Abs(d.Dir)
	if err != nil {
		abs = d.Dir
	}
	file := filepath.Join(abs, "plugins.yaml")
	data, err := os.ReadFile(file)
	if err != nil {
		r.problem("", file, fmt.Errorf("plugin package %s (from %s): %w", d.Dir, d.Source, err))
		return
	}
	pkg := &Package{Dir: abs, Manifest: file, Source: d.Source}
	r.loadManifest(pkg, file, data)
}
