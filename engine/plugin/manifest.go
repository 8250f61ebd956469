package plugin

import (
	_ "embed"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"gopkg.in/yaml.v3"

	"github.com/loadstar/loadstar/engine/ordered"
)

// schemaVersion is the manifest schema version this registry reads.
const schemaVersion = "1.0"

//go:embed categories.yaml
var categoriesYAML []byte

//go:embed plugins.yaml
var pluginsYAML []byte

// The names the embedded manifests report in errors.
const (
	categoriesFile      = "engine/plugin/categories.yaml"
	BuiltinManifestFile = "engine/plugin/plugins.yaml"
)

// BuiltinManifest returns the embedded plugins.yaml of the built-in plugins.
func BuiltinManifest() []byte { return pluginsYAML }

// ManifestError is one problem in a manifest: the file, the line and the
// dotted key path it concerns, and what was expected.
type ManifestError struct {
	File string
	Line int
	Key  string
	Msg  string
}

func (e *ManifestError) Error() string {
	loc := e.File
	if e.Line > 0 {
		loc += ":" + strconv.Itoa(e.Line)
	}
	if e.Key != "" {
		return fmt.Sprintf("%s: %s: %s", loc, e.Key, e.Msg)
	}
	return fmt.Sprintf("%s: %s", loc, e.Msg)
}

// MetadataField declares one field of a category's metadata schema.
type MetadataField struct {
	Name        string
	Type        string // string, bool, int, float or list[string]
	Required    bool
	Description string
}

// CategoryInfo describes a category (a section of categories.yaml).
type CategoryInfo struct {
	Name        Category
	Protocol    string // Go interface, e.g. engine/endpoint.Endpoint
	Namespace   string // Starlark namespace, e.g. endpoint
	Enum        string // generated Go type of the built-in names
	Description string
	Internal    bool
	Metadata    []MetadataField
}

// Field returns the metadata field called name.
func (c *CategoryInfo) Field(name string) (MetadataField, bool) {
	for _, f := range c.Metadata {
		if f.Name == name {
			return f, true
		}
	}
	return MetadataField{}, false
}

// Categories is the parsed categories.yaml, in file order.
type Categories struct {
	List   []*CategoryInfo
	byName map[Category]*CategoryInfo
}

// Get returns the category called name.
func (cs *Categories) Get(name Category) (*CategoryInfo, bool) {
	c, ok := cs.byName[name]
	return c, ok
}

// Names returns the category names in order.
func (cs *Categories) Names() []string {
	out := make([]string, len(cs.List))
	for i, c := range cs.List {
		out[i] = string(c.Name)
	}
	return out
}

var builtinCategories = sync.OnceValues(func() (*Categories, error) {
	return ParseCategories(categoriesFile, categoriesYAML)
})

// BuiltinCategories returns the embedded categories. The result is shared
// and must not be modified.
func BuiltinCategories() (*Categories, error) { return builtinCategories() }

// metadataTypes are the types a metadata field may declare.
var metadataTypes = map[string]bool{"string": true, "bool": true, "int": true, "float": true, "list[string]": true}

// nodeWalker reads a YAML document strictly, collecting every problem.
type nodeWalker struct {
	file string
	errs []error
}

func (w *nodeWalker) fail(n *yaml.Node, key, format string, args ...any) {
	line := 0
	if n != nil {
		line = n.Line
	}
	w.errs = append(w.errs, &ManifestError{File: w.file, Line: line, Key: key, Msg: fmt.Sprintf(format, args...)})
}

func (w *nodeWalker) err() error { return errors.Join(w.errs...) }

// document parses data and returns its top-level mapping.
func (w *nodeWalker) document(data []byte) *yaml.Node {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		line := 0
		msg := err.Error()
		// yaml.v3 reports "yaml: line N: ..."; lift the line into the error.
		if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
			line, _ = strconv.Atoi(m[1])
			msg = m[2]
		}
		w.errs = append(w.errs, &ManifestError{File: w.file, Line: line, Msg: "invalid YAML: " + strings.TrimPrefix(msg, "yaml: ")})
		return nil
	}
	if len(doc.Content) == 0 {
		w.fail(nil, "", "empty file: want a mapping with schema_version")
		return nil
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		w.fail(root, "", "want a mapping at the top level, got %s", kindName(root))
		return nil
	}
	return root
}

var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// pairs iterates a mapping's key/value nodes, reporting duplicate keys.
func (w *nodeWalker) pairs(m *yaml.Node, prefix string, fn func(key string, k, v *yaml.Node)) {
	seen := map[string]bool{}
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			w.fail(k, prefix, "keys must be plain strings")
			continue
		}
		if seen[k.Value] {
			w.fail(k, join(prefix, k.Value), "duplicate key")
			continue
		}
		seen[k.Value] = true
		fn(k.Value, k, v)
	}
}

func join(prefix, key string) string {
	if prefix == "" {
		return key
	}
	return prefix + "." + key
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	case yaml.ScalarNode:
		switch n.Tag {
		case "!!null":
			return "null"
		case "!!str":
			return fmt.Sprintf("string %q", n.Value)
		case "!!int":
			return "int " + n.Value
		case "!!float":
			return "float " + n.Value
		case "!!bool":
			return "bool " + n.Value
		}
		return n.Value
	}
	return "?"
}

func (w *nodeWalker) mapping(n *yaml.Node, key string) bool {
	if n.Kind != yaml.MappingNode {
		w.fail(n, key, "want a mapping, got %s", kindName(n))
		return false
	}
	return true
}

func (w *nodeWalker) str(n *yaml.Node, key string) (string, bool) {
	if n.Kind != yaml.ScalarNode || n.Tag != "!!str" {
		w.fail(n, key, "want a string, got %s", kindName(n))
		return "", false
	}
	return n.Value, true
}

func (w *nodeWalker) boolean(n *yaml.Node, key string) (bool, bool) {
	if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" {
		w.fail(n, key, "want true or false, got %s", kindName(n))
		return false, false
	}
	var b bool
	if err := n.Decode(&b); err != nil {
		w.fail(n, key, "want true or false, got %s", kindName(n))
		return false, false
	}
	return b, true
}

func (w *nodeWalker) integer(n *yaml.Node, key string) (int64, bool) {
	if n.Kind != yaml.ScalarNode || n.Tag != "!!int" {
		w.fail(n, key, "want an integer, got %s", kindName(n))
		return 0, false
	}
	var i int64
	if err := n.Decode(&i); err != nil {
		w.fail(n, key, "want an integer, got %s", kindName(n))
		return 0, false
	}
	return i, true
}

func (w *nodeWalker) float(n *yaml.Node, key string) (float64, bool) {
	if n.Kind != yaml.ScalarNode || (n.Tag != "!!float" && n.Tag != "!!int") {
		w.fail(n, key, "want a number, got %s", kindName(n))
		return 0, false
	}
	var f float64
	if err := n.Decode(&f); err != nil {
		w.fail(n, key, "want a number, got %s", kindName(n))
		return 0, false
	}
	return f, true
}

func (w *nodeWalker) strings(n *yaml.Node, key string) ([]string, bool) {
	if n.Kind != yaml.SequenceNode {
		w.fail(n, key, "want a list of strings, got %s", kindName(n))
		return nil, false
	}
	out := make([]string, 0, len(n.Content))
	ok := true
	for i, e := range n.Content {
		s, good := w.str(e, fmt.Sprintf("%s[%d]", key, i))
		ok = ok && good
		out = append(out, s)
	}
	return out, ok
}

// schemaVersion checks the schema_version value.
func (w *nodeWalker) schemaVersion(v *yaml.Node) {
	if v.Kind != yaml.ScalarNode || (v.Tag != "!!str" && v.Tag != "!!float") {
		w.fail(v, "schema_version", "want \"%s\", got %s", schemaVersion, kindName(v))
		return
	}
	if v.Value != schemaVersion {
		w.fail(v, "schema_version", "unsupported version %q: this loadstar reads \"%s\"", v.Value, schemaVersion)
	}
}

// ParseCategories parses and validates a categories.yaml. file names it in
// errors. Every problem is reported, each as a *ManifestError.
func ParseCategories(file string, data []byte) (*Categories, error) {
	w := &nodeWalker{file: file}
	root := w.document(data)
	cs := &Categories{byName: map[Category]*CategoryInfo{}}
	if root == nil {
		return cs, w.err()
	}
	hasVersion := false
	namespaces := map[string]string{}
	w.pairs(root, "", func(key string, k, v *yaml.Node) {
		if key == "schema_version" {
			hasVersion = true
			w.schemaVersion(v)
			return
		}
		if !nameRE.MatchString(key) {
			w.fail(k, key, "category names are snake_case identifiers")
			return
		}
		if !w.mapping(v, key) {
			return
		}
		c := &CategoryInfo{Name: Category(key)}
		var have = map[string]bool{}
		w.pairs(v, key, func(field string, fk, fv *yaml.Node) {
			have[field] = true
			path := join(key, field)
			switch field {
			case "protocol":
				c.Protocol, _ = w.str(fv, path)
				if c.Protocol != "" && !protocolRE.MatchString(c.Protocol) {
					w.fail(fv, path, "want <package path>.<Interface>, e.g. engine/endpoint.Endpoint, got %q", c.Protocol)
				}
			case "namespace":
				c.Namespace, _ = w.str(fv, path)
			case "enum":
				c.Enum, _ = w.str(fv, path)
				if c.Enum != "" && !goIdentRE.MatchString(c.Enum) {
					w.fail(fv, path, "want an exported Go identifier, got %q", c.Enum)
				}
			case "description":
				c.Description, _ = w.str(fv, path)
			case "internal":
				c.Internal, _ = w.boolean(fv, path)
			case "metadata":
				c.Metadata = w.metadataSchema(fv, path)
			default:
				w.fail(fk, path, "unknown key (want protocol, namespace, enum, description, internal, metadata)")
			}
		})
		for _, req := range []string{"protocol", "namespace", "enum", "description"} {
			if !have[req] {
				w.fail(v, join(key, req), "missing")
			}
		}
		if c.Namespace != "" {
			if want := Namespace(c.Name); c.Namespace != want {
				w.fail(v, join(key, "namespace"), "is %q but plugin.Namespace says %q: keep them in step", c.Namespace, want)
			}
			if prev, dup := namespaces[c.Namespace]; dup {
				w.fail(v, join(key, "namespace"), "%q is already the namespace of %s", c.Namespace, prev)
			}
			namespaces[c.Namespace] = key
		}
		cs.List = append(cs.List, c)
		cs.byName[c.Name] = c
	})
	if !hasVersion {
		w.fail(root, "schema_version", "missing (want \"%s\")", schemaVersion)
	}
	return cs, w.err()
}

func (w *nodeWalker) metadataSchema(n *yaml.Node, key string) []MetadataField {
	if !w.mapping(n, key) {
		return nil
	}
	var out []MetadataField
	w.pairs(n, key, func(name string, k, v *yaml.Node) {
		path := join(key, name)
		if !nameRE.MatchString(name) {
			w.fail(k, path, "metadata field names are snake_case identifiers")
			return
		}
		if !w.mapping(v, path) {
			return
		}
		f := MetadataField{Name: name}
		w.pairs(v, path, func(attr string, ak, av *yaml.Node) {
			p := join(path, attr)
			switch attr {
			case "type":
				f.Type, _ = w.str(av, p)
				if f.Type != "" && !metadataTypes[f.Type] {
					w.fail(av, p, "unknown type %q (want string, bool, int, float or list[string])", f.Type)
				}
			case "required":
				f.Required, _ = w.boolean(av, p)
			case "description":
				f.Description, _ = w.str(av, p)
			default:
				w.fail(ak, p, "unknown key (want type, required, description)")
			}
		})
		if f.Type == "" {
			w.fail(v, join(path, "type"), "missing")
		}
		out = append(out, f)
	})
	return out
}

var (
	// nameRE is a plugin or category name: lower-case, '-' or '_' separated.
	nameRE     = regexp.MustCompile(`^[a-z][a-z0-9_-]*$`)
	goIdentRE  = regexp.MustCompile(`^[A-Z][A-Za-z0-9_]*$`)
	protocolRE = regexp.MustCompile(`^[a-z][a-z0-9_]*(/[a-z][a-z0-9_]*)*\.[A-Z][A-Za-z0-9_]*$`)
)

// starlarkKeywords cannot follow a '.' in Starlark, so they cannot be names.
var starlarkKeywords = map[string]bool{
	"and": true, "break": true, "continue": true, "def": true, "elif": true, "else": true,
	"for": true, "if": true, "in": true, "lambda": true, "load": true, "not": true,
	"or": true, "pass": true, "return": true, "while": true,
	// Reserved by the Starlark spec for future use.
	"as": true, "assert": true, "async": true, "await": true, "class": true, "del": true,
	"except": true, "finally": true, "from": true, "global": true, "import": true, "is": true,
	"nonlocal": true, "raise": true, "try": true, "with": true, "yield": true,
}

// Normalize returns the canonical form of a plugin name: '-' and '_' are the
// same, so "request-rate" and "request_rate" name one plugin.
func Normalize(name string) string { return strings.ReplaceAll(name, "-", "_") }

// checkName reports why name cannot be a plugin name, or nil.
func checkName(name string) error {
	if !nameRE.MatchString(name) {
		return fmt.Errorf("plugin names are lower-case letters, digits, '_' and '-', starting with a letter; got %q", name)
	}
	if starlarkKeywords[Normalize(name)] {
		return fmt.Errorf("%q is a Starlark keyword and cannot name a plugin", name)
	}
	return nil
}

// PackageHeader is the `package:` section of a plugins.yaml.
type PackageHeader struct {
	Name        string
	Version     string
	Description string
}

// ManifestEntry is one plugin as a manifest declares it.
type ManifestEntry struct {
	Category    Category
	Name        string // as written
	Class       string
	Description string
	Priority    int
	Metadata    *ordered.Map // typed per the category schema
	Line        int
}

// Manifest is a parsed plugins.yaml.
type Manifest struct {
	File    string
	Package PackageHeader
	Entries []ManifestEntry // in file order
}

// ParseManifest parses and validates a plugins.yaml against the categories:
// unknown keys, wrong types, unknown categories and metadata fields the
// category's schema does not have are errors naming the file, line and key.
// Class paths are checked for syntax only (see ParseClassPath).
func ParseManifest(file string, data []byte, cats *Categories) (*Manifest, error) {
	w := &nodeWalker{file: file}
	m := &Manifest{File: file}
	root := w.document(data)
	if root == nil {
		return m, w.err()
	}
	hasVersion := false
	w.pairs(root, "", func(key string, k, v *yaml.Node) {
		switch key {
		case "schema_version":
			hasVersion = true
			w.schemaVersion(v)
			return
		case "package":
			m.Package = w.packageHeader(v)
			return
		}
		cat, ok := cats.Get(Category(key))
		if !ok {
			w.fail(k, key, "unknown category (want schema_version, package or one of: %s)", strings.Join(cats.Names(), ", "))
			return
		}
		if v.Kind == yaml.ScalarNode && v.Tag == "!!null" {
			return // "endpoint:" with nothing under it
		}
		if !w.mapping(v, key) {
			return
		}
		normalized := map[string]string{}
		w.pairs(v, key, func(name string, nk, nv *yaml.Node) {
			path := join(key, name)
			if err := checkName(name); err != nil {
				w.fail(nk, path, "%v", err)
				return
			}
			if prev, dup := normalized[Normalize(name)]; dup {
				w.fail(nk, path, "same name as %q ('-' and '_' are the same)", prev)
				return
			}
			normalized[Normalize(name)] = name
			if e, ok := w.entry(cat, name, nv, path); ok {
				e.Line = nk.Line
				m.Entries = append(m.Entries, e)
			}
		})
	})
	if !hasVersion {
		w.fail(root, "schema_version", "missing (want \"%s\")", schemaVersion)
	}
	return m, w.err()
}

func (w *nodeWalker) packageHeader(n *yaml.Node) PackageHeader {
	var h PackageHeader
	if !w.mapping(n, "package") {
		return h
	}
	w.pairs(n, "package", func(key string, k, v *yaml.Node) {
		path := join("package", key)
		switch key {
		case "name":
			h.Name, _ = w.str(v, path)
			if h.Name != "" && !nameRE.MatchString(h.Name) {
				w.fail(v, path, "package names are lower-case letters, digits, '_' and '-', got %q", h.Name)
			}
		case "version":
			// An unquoted 1.2 is a YAML float; take the text as written.
			if v.Kind == yaml.ScalarNode && (v.Tag == "!!str" || v.Tag == "!!float" || v.Tag == "!!int") {
				h.Version = v.Value
			} else {
				w.fail(v, path, "want a version string, got %s", kindName(v))
			}
		case "description":
			h.Description, _ = w.str(v, path)
		default:
			w.fail(k, path, "unknown key (want name, version, description)")
		}
	})
	return h
}

func (w *nodeWalker) entry(cat *CategoryInfo, name string, n *yaml.Node, path string) (ManifestEntry, bool) {
	e := ManifestEntry{Category: cat.Name, Name: name}
	if !w.mapping(n, path) {
		return e, false
	}
	before := len(w.errs)
	hasClass := false
	w.pairs(n, path, func(key string, k, v *yaml.Node) {
		p := join(path, key)
		switch key {
		case "class":
			hasClass = true
			e.Class, _ = w.str(v, p)
			if e.Class != "" {
				if _, err := ParseClassPath(e.Class); err != nil {
					w.fail(v, p, "%v", err)
				}
			}
		case "description":
			e.Description, _ = w.str(v, p)
		case "priority":
			i, _ := w.integer(v, p)
			e.Priority = int(i)
		case "metadata":
			e.Metadata = w.metadata(cat, v, p)
		default:
			w.fail(k, p, "unknown key (want class, description, priority, metadata)")
		}
	})
	if !hasClass {
		w.fail(n, join(path, "class"), "missing: want go:engine/<package>.<Name> or path/to/file.star:symbol")
	}
	if e.Metadata == nil {
		e.Metadata = w.metadata(cat, &yaml.Node{Kind: yaml.MappingNode, Line: n.Line}, join(path, "metadata"))
	}
	return e, len(w.errs) == before
}

// metadata reads an entry's metadata against the category schema.
func (w *nodeWalker) metadata(cat *CategoryInfo, n *yaml.Node, path string) *ordered.Map {
	out := ordered.New(len(cat.Metadata))
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		n = &yaml.Node{Kind: yaml.MappingNode, Line: n.Line}
	}
	if !w.mapping(n, path) {
		return out
	}
	w.pairs(n, path, func(key string, k, v *yaml.Node) {
		p := join(path, key)
		f, ok := cat.Field(key)
		if !ok {
			if len(cat.Metadata) == 0 {
				w.fail(k, p, "category %s has no metadata fields", cat.Name)
			} else {
				w.fail(k, p, "not a metadata field of category %s (want one of: %s)", cat.Name, fieldNames(cat))
			}
			return
		}
		var val any
		good := false
		switch f.Type {
		case "string":
			val, good = w.str(v, p)
		case "bool":
			val, good = w.boolean(v, p)
		case "int":
			val, good = w.integer(v, p)
		case "float":
			val, good = w.float(v, p)
		case "list[string]":
			val, good = w.strings(v, p)
		}
		if good {
			out.Set(key, val)
		}
	})
	for _, f := range cat.Metadata {
		if _, ok := out.Get(f.Name); !ok && f.Required && !hasKey(n, f.Name) {
			w.fail(n, join(path, f.Name), "missing required metadata field (%s)", f.Type)
		}
	}
	return out
}

func hasKey(m *yaml.Node, key string) bool {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return true
		}
	}
	return false
}

func fieldNames(cat *CategoryInfo) string {
	names := make([]string, len(cat.Metadata))
	for i, f := range cat.Metadata {
		names[i] = f.Name
	}
	return strings.Join(names, ", ")
}

// checkMetadata validates metadata given from Go (Register) against the
// category's schema and returns it typed as a manifest would hold it.
// Unknown fields and wrong types are errors; with partial set, required
// fields may be absent (they read as zero values).
func checkMetadata(cat *CategoryInfo, md map[string]any, partial bool) (*ordered.Map, error) {
	out := ordered.New(len(cat.Metadata))
	var errs []error
	for k := range md {
		if _, ok := cat.Field(k); !ok {
			errs = append(errs, fmt.Errorf("metadata.%s: not a metadata field of category %s", k, cat.Name))
		}
	}
	for _, f := range cat.Metadata {
		v, ok := md[f.Name]
		if !ok {
			if f.Required && !partial {
				errs = append(errs, fmt.Errorf("metadata.%s: missing required field (%s)", f.Name, f.Type))
			}
			continue
		}
		var good bool
		switch f.Type {
		case "string":
			_, good = v.(string)
		case "bool":
			_, good = v.(bool)
		case "int":
			switch x := v.(type) {
			case int:
				v, good = int64(x), true
			case int64:
				good = true
			}
		case "float":
			switch x := v.(type) {
			case int:
				v, good = float64(x), true
			case int64:
				v, good = float64(x), true
			case float64:
				good = true
			}
		case "list[string]":
			_, good = v.([]string)
		}
		if !good {
			errs = append(errs, fmt.Errorf("metadata.%s: want %s, got %T", f.Name, f.Type, v))
			continue
		}
		out.Set(f.Name, v)
	}
	return out, errors.Join(errs...)
}

// ClassKind tells how a class path is implemented.
type ClassKind uint8

const (
	// GoClass is `go:<package path>.<Name>`, bound from Go code.
	GoClass ClassKind = iota + 1
	// ScriptClass is `<path/to/file.star>:<symbol>`, relative to the package.
	ScriptClass
)

// ClassPath is a parsed class string.
type ClassPath struct {
	Kind ClassKind
	// Go: Package is the package path under the module (engine/endpoint) and
	// Name the key in its Classes() map.
	Package, Name string
	// Script: File is the slash-separated path inside the plugin package and
	// Symbol the top-level name in it.
	File, Symbol string
}

var (
	goClassRE     = regexp.MustCompile(`^go:([a-z][a-z0-9_]*(?:/[a-z][a-z0-9_]*)*)\.([A-Za-z_][A-Za-z0-9_]*)$`)
	scriptClassRE = regexp.MustCompile(`^([^:]+\.star):([A-Za-z_][A-Za-z0-9_]*)$`)
)

// ParseClassPath parses a manifest `class` value.
func ParseClassPath(s string) (ClassPath, error) {
	if m := goClassRE.FindStringSubmatch(s); m != nil {
		return ClassPath{Kind: GoClass, Package: m[1], Name: m[2]}, nil
	}
	if strings.HasPrefix(s, "go:") {
		return ClassPath{}, fmt.Errorf("bad class path %q: want go:<package path>.<Name>, e.g. go:engine/endpoint.Chat", s)
	}
	if m := scriptClassRE.FindStringSubmatch(s); m != nil {
		file := m[1]
		if strings.HasPrefix(file, "/") || strings.Contains(file, "\\") || strings.HasPrefix(file, "@") {
			return ClassPath{}, fmt.Errorf("bad class path %q: the .star file must be a relative slash-separated path inside the package", s)
		}
		for _, part := range strings.Split(file, "/") {
			if part == ".." || part == "" {
				return ClassPath{}, fmt.Errorf("bad class path %q: the .star file must stay inside the package (no '..' or empty segments)", s)
			}
		}
		return ClassPath{Kind: ScriptClass, File: file, Symbol: m[2]}, nil
	}
	return ClassPath{}, fmt.Errorf("bad class path %q: want go:<package path>.<Name> (built into loadstar) or path/to/file.star:symbol (Starlark, relative to the package)", s)
}

// String renders the class path as a manifest writes it.
func (c ClassPath) String() string {
	if c.Kind == GoClass {
		return "go:" + c.Package + "." + c.Name
	}
	return c.File + ":" + c.Symbol
}
