package starplugin

import (
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"go.starlark.net/resolve"
	"go.starlark.net/starlark"
	"go.starlark.net/syntax"

	"github.com/loadstar/loadstar/engine/plugin"
)

// fileOptions is the dialect of plugin files: the scenario dialect (set(),
// top-level if/for), without while loops or recursion, so every call
// terminates.
var fileOptions = &syntax.FileOptions{Set: true, TopLevelControl: true}

// analysis is what reading a plugin file (without running it) tells.
type analysis struct {
	file   string // absolute path
	symbol string
	def    *syntax.DefStmt
	own    []plugin.Param // the constructor's parameters
}

// parsedFile is one parsed and resolved .star file.
type parsedFile struct {
	file  *syntax.File
	defs  map[string][]*syntax.DefStmt // every def in the file, any depth
	top   map[string]syntax.Node       // top-level bindings: def, assignment or load
	loads []*syntax.LoadStmt
}

// parseFile reads, parses and resolves one file. Predeclared names are
// those a plugin module sees (see predeclared).
func parseFile(abs string) (*parsedFile, error) {
	src, err := os.ReadFile(abs)
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %w", abs, unwrapPathError(err))
	}
	f, err := fileOptions.Parse(abs, src, 0)
	if err != nil {
		return nil, err
	}
	if err := resolve.File(f, isPredeclared, starlark.Universe.Has); err != nil {
		return nil, resolveError(err)
	}
	pf := &parsedFile{file: f, defs: map[string][]*syntax.DefStmt{}, top: map[string]syntax.Node{}}
	syntax.Walk(f, func(n syntax.Node) bool {
		if d, ok := n.(*syntax.DefStmt); ok {
			pf.defs[d.Name.Name] = append(pf.defs[d.Name.Name], d)
		}
		return true
	})
	for _, st := range f.Stmts {
		topBindings(st, pf)
	}
	return pf, nil
}

// topBindings records the names a top-level statement binds.
func topBindings(st syntax.Stmt, pf *parsedFile) {
	switch s := st.(type) {
	case *syntax.DefStmt:
		pf.top[s.Name.Name] = s
	case *syntax.AssignStmt:
		bindTargets(s.LHS, s, pf)
	case *syntax.LoadStmt:
		pf.loads = append(pf.loads, s)
		for _, to := range s.To {
			pf.top[to.Name] = s
		}
	case *syntax.IfStmt:
		for _, b := range append(append([]syntax.Stmt{}, s.True...), s.False...) {
			topBindings(b, pf)
		}
	case *syntax.ForStmt:
		bindTargets(s.Vars, s, pf)
		for _, b := range s.Body {
			topBindings(b, pf)
		}
	}
}

func bindTargets(e syntax.Expr, st syntax.Node, pf *parsedFile) {
	switch x := e.(type) {
	case *syntax.Ident:
		pf.top[x.Name] = st
	case *syntax.TupleExpr:
		for _, y := range x.List {
			bindTargets(y, st, pf)
		}
	case *syntax.ListExpr:
		for _, y := range x.List {
			bindTargets(y, st, pf)
		}
	case *syntax.ParenExpr:
		bindTargets(x.X, st, pf)
	}
}

func unwrapPathError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// resolveError flattens resolve's error list into one error.
func resolveError(err error) error {
	var list resolve.ErrorList
	if errors.As(err, &list) {
		errs := make([]error, len(list))
		for i, e := range list {
			errs[i] = fmt.Errorf("%s: %s", e.Pos, e.Msg)
		}
		return errors.Join(errs...)
	}
	return err
}

// loadTarget resolves a load() module string of a file inside pkgDir:
// relative to the loading file, and never outside the package.
func loadTarget(pkgDir, fromFile, module string) (string, error) {
	if strings.HasPrefix(module, "@") || strings.Contains(module, "\\") {
		return "", fmt.Errorf("load(%q): plugin files load other files of their package by relative path", module)
	}
	if !strings.HasSuffix(module, ".star") {
		return "", fmt.Errorf("load(%q): want a .star file", module)
	}
	var rel string
	if strings.HasPrefix(module, "/") {
		rel = path.Clean(strings.TrimPrefix(module, "/")) // package-relative
	} else {
		fromRel, err := filepath.Rel(pkgDir, filepath.Dir(fromFile))
		if err != nil {
			return "", err
		}
		rel = path.Join(filepath.ToSlash(fromRel), module)
	}
	if rel == ".." || strings.HasPrefix(rel, "../") {
		return "", fmt.Errorf("load(%q): the file is outside the plugin package %s", module, pkgDir)
	}
	return filepath.Join(pkgDir, filepath.FromSlash(rel)), nil
}

// checkLoads verifies, without executing, that every file loaded from pf
// (transitively) exists inside the package, parses and defines the names
// loaded from it.
func checkLoads(pkgDir, file string, pf *parsedFile, seen map[string]bool) error {
	seen[file] = true
	var errs []error
	for _, ld := range pf.loads {
		module, _ := ld.Module.Value.(string)
		target, err := loadTarget(pkgDir, file, module)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", ld.Load, err))
			continue
		}
		if seen[target] {
			errs = append(errs, fmt.Errorf("%s: load(%q): cycle in load graph", ld.Load, module))
			continue
		}
		sub, err := parseFile(target)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: load(%q): %w", ld.Load, module, err))
			continue
		}
		for _, from := range ld.From {
			if _, ok := sub.top[from.Name]; !ok || strings.HasPrefix(from.Name, "_") {
				errs = append(errs, fmt.Errorf("%s: load(%q): %s does not define %s", from.NamePos, module, target, from.Name))
			}
		}
		if err := checkLoads(pkgDir, target, sub, seen); err != nil {
			errs = append(errs, err)
		}
	}
	delete(seen, file)
	return errors.Join(errs...)
}

// analyze reads the plugin file of e and checks, without executing it,
// that it defines the class symbol as a constructor and that the functions
// the category's protocol needs exist with the right arity.
func analyze(e *plugin.Entry, proto *protocol) (*analysis, error) {
	abs := e.ScriptFile()
	cp := e.ClassPath()
	pf, err := parseFile(abs)
	if err != nil {
		return nil, err
	}
	if err := checkLoads(e.Package.Dir, abs, pf, map[string]bool{}); err != nil {
		return nil, err
	}
	a := &analysis{file: abs, symbol: cp.Symbol}
	node, ok := pf.top[cp.Symbol]
	if !ok {
		var defs []string
		for _, st := range pf.file.Stmts {
			if d, ok := st.(*syntax.DefStmt); ok {
				defs = append(defs, d.Name.Name)
			}
		}
		sort.Strings(defs)
		have := "it defines no top-level functions"
		if len(defs) > 0 {
			have = "top-level functions: " + strings.Join(defs, ", ")
		}
		return nil, fmt.Errorf("class %q not found in %s (%s)", cp.Symbol, cp.File, have)
	}
	def, ok := node.(*syntax.DefStmt)
	if !ok {
		start, _ := node.Span()
		return nil, fmt.Errorf("%s: %s must be a function `def %s(...)` (the plugin's constructor), not an assignment or load", start, cp.Symbol, cp.Symbol)
	}
	a.def = def
	if a.own, err = constructorParams(def); err != nil {
		return nil, err
	}
	if err := checkMethods(pf, def, proto); err != nil {
		return nil, err
	}
	return a, nil
}

// constructorParams turns the constructor's parameters into plugin Params:
// a parameter without default is required; a literal default (string,
// bool, number) types the parameter and is shown as its default; anything
// else accepts any data.
func constructorParams(def *syntax.DefStmt) ([]plugin.Param, error) {
	var out []plugin.Param
	for _, p := range def.Params {
		switch x := p.(type) {
		case *syntax.Ident:
			out = append(out, plugin.Param{Name: x.Name, Type: plugin.TAny, Required: true, Doc: "Option of " + def.Name.Name + "()."})
		case *syntax.BinaryExpr:
			name := x.X.(*syntax.Ident).Name
			typ, def := literalDefault(x.Y)
			out = append(out, plugin.Param{Name: name, Type: typ, Default: def})
		case *syntax.UnaryExpr:
			if x.X == nil { // bare '*' before keyword-only parameters
				continue
			}
			start, _ := x.Span()
			return nil, fmt.Errorf("%s: constructor %s cannot take *args or **kwargs: declare each option as a parameter", start, def.Name.Name)
		}
	}
	for i := range out {
		if out[i].Doc == "" {
			out[i].Doc = "Option of " + def.Name.Name + "()."
		}
	}
	return out, nil
}

// literalDefault types a parameter from its default when that is a
// literal, returning the default's Go value (nil when not a literal).
func literalDefault(e syntax.Expr) (plugin.ParamType, any) {
	neg := false
	if u, ok := e.(*syntax.UnaryExpr); ok && u.Op == syntax.MINUS {
		neg, e = true, u.X
	}
	switch x := e.(type) {
	case *syntax.Literal:
		switch v := x.Value.(type) {
		case string:
			if !neg {
				return plugin.TString, v
			}
		case int64:
			if neg {
				v = -v
			}
			return plugin.TFloat, v
		case float64:
			if neg {
				v = -v
			}
			return plugin.TFloat, v
		}
	case *syntax.Ident:
		switch x.Name {
		case "True":
			return plugin.TBool, true
		case "False":
			return plugin.TBool, false
		}
	}
	return plugin.TAny, nil
}

// checkMethods finds every function that can provide each protocol method:
// a def of that name (nested in the constructor or at top level) or a
// keyword argument of that name (struct(format_payload = f)) whose value is
// a lambda or names a def. Each must take the method's arguments.
func checkMethods(pf *parsedFile, ctor *syntax.DefStmt, proto *protocol) error {
	type candidate struct {
		pos    syntax.Position
		params []syntax.Expr
		what   string
	}
	found := map[string][]candidate{}
	for _, m := range proto.methods {
		for _, d := range pf.defs[m.name] {
			found[m.name] = append(found[m.name], candidate{d.Def, d.Params, "def " + m.name})
		}
	}
	syntax.Walk(ctor, func(n syntax.Node) bool {
		call, ok := n.(*syntax.CallExpr)
		if !ok {
			return true
		}
		for _, arg := range call.Args {
			kw, ok := arg.(*syntax.BinaryExpr)
			if !ok || kw.Op != syntax.EQ {
				continue
			}
			name := kw.X.(*syntax.Ident).Name
			if proto.method(name) == nil {
				continue
			}
			switch v := kw.Y.(type) {
			case *syntax.LambdaExpr:
				found[name] = append(found[name], candidate{v.Lambda, v.Params, "lambda"})
			case *syntax.Ident:
				for _, d := range pf.defs[v.Name] {
					found[name] = append(found[name], candidate{d.Def, d.Params, "def " + v.Name})
				}
			}
		}
		return true
	})
	var errs []error
	for _, m := range proto.methods {
		// A def may be found both by name and through a keyword argument.
		var cands []candidate
		seen := map[syntax.Position]bool{}
		for _, c := range found[m.name] {
			if !seen[c.pos] {
				seen[c.pos] = true
				cands = append(cands, c)
			}
		}
		if len(cands) == 0 {
			if m.optional {
				continue
			}
			errs = append(errs, fmt.Errorf("no function %s found: the constructor %s must return struct(%s) with %s", m.signature(), ctor.Name.Name, proto.fields(), m.signature()))
			continue
		}
		for _, c := range cands {
			lo, hi, variadic := arity(c.params)
			if m.arity < lo || (m.arity > hi && !variadic) {
				errs = append(errs, fmt.Errorf("%s: %s must take %s, but takes %s", c.pos, c.what, describeArity(m.arity, m.args), describeRange(lo, hi, variadic)))
			}
		}
	}
	return errors.Join(errs...)
}

// arity returns how many positional arguments a parameter list accepts.
func arity(params []syntax.Expr) (lo, hi int, variadic bool) {
	for _, p := range params {
		switch x := p.(type) {
		case *syntax.Ident:
			lo++
			hi++
		case *syntax.BinaryExpr:
			hi++
		case *syntax.UnaryExpr:
			if x.Op == syntax.STAR {
				if x.X != nil {
					variadic = true
				}
				return // keyword-only parameters follow
			}
		}
	}
	return
}

func describeArity(n int, args string) string {
	if n == 1 {
		return "1 argument (" + args + ")"
	}
	return fmt.Sprintf("%d arguments (%s)", n, args)
}

func describeRange(lo, hi int, variadic bool) string {
	switch {
	case variadic:
		return fmt.Sprintf("%d or more", lo)
	case lo == hi:
		return fmt.Sprint(lo)
	}
	return fmt.Sprintf("%d to %d", lo, hi)
}
