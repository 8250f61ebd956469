package interp

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"go.starlark.net/starlark"
)

// moduleEntry is one module in the load cache. loading marks a module whose
// top level is executing, which is how cycles are detected.
type moduleEntry struct {
	display string // name shown in messages and backtraces
	globals starlark.StringDict
	err     error
	loading bool
}

// stdlibPrefix introduces a module of the embedded standard library.
const stdlibPrefix = "@stdlib//"

// load implements starlark.Thread.Load: the same module name yields the same
// globals (or the same error) however often it is loaded.
func (h *Host) load(thread *starlark.Thread, module string) (starlark.StringDict, error) {
	site := "?"
	if thread.CallStackDepth() > 0 {
		site = thread.CallFrame(0).Pos.String()
	}
	fromKey, fromDisplay := h.current(thread)
	res, err := h.resolve(module, fromKey, fromDisplay)
	if err != nil {
		return nil, fmt.Errorf("%v (load at %s)", err, site)
	}
	if e, ok := h.modules[res.key]; ok {
		if e.loading {
			return nil, fmt.Errorf("cycle in load graph: %s (load at %s)", h.cycle(res.key), site)
		}
		return e.globals, e.err
	}
	src, searched, err := res.read()
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("module %s not found (load at %s); searched: %s", module, site, strings.Join(searched, ", "))
		}
		return nil, fmt.Errorf("cannot read module %s: %v (load at %s)", module, err, site)
	}
	entry := &moduleEntry{display: res.display, loading: true}
	h.modules[res.key] = entry
	h.stack = append(h.stack, res.key)
	globals, err := starlark.ExecFileOptions(FileOptions, thread, res.display, src, h.predeclared(res.key))
	h.stack = h.stack[:len(h.stack)-1]
	entry.loading = false
	if err != nil {
		entry.err = err
		return nil, err
	}
	globals.Freeze()
	entry.globals = globals
	return globals, nil
}

// current returns the key and display name of the module whose top level is
// executing on thread (the one issuing a load).
func (h *Host) current(thread *starlark.Thread) (key, display string) {
	if n := len(h.stack); n > 0 {
		key = h.stack[n-1]
		return key, h.modules[key].display
	}
	return "", ""
}

// cycle renders the load chain that closes on key.
func (h *Host) cycle(key string) string {
	var names []string
	start := -1
	for i, k := range h.stack {
		if k == key {
			start = i
		}
		if start >= 0 {
			names = append(names, h.modules[k].display)
		}
	}
	names = append(names, h.modules[key].display)
	return strings.Join(names, " -> ")
}

// resolved is where a module name points.
type resolved struct {
	key     string // canonical cache key: absolute path or @stdlib//path
	display string
	fsys    fs.FS  // set for stdlib modules
	fsPath  string // path inside fsys
	file    string // set for files on disk
}

func (r resolved) read() ([]byte, []string, error) {
	if r.fsys != nil {
		b, err := fs.ReadFile(r.fsys, r.fsPath)
		return b, []string{stdlibPrefix + r.fsPath + " (embedded)"}, err
	}
	b, err := os.ReadFile(r.file)
	return b, []string{r.file}, err
}

// resolve maps a load() argument to a module. Relative names are relative to
// the loading module (fromKey); @stdlib// names are served from the embedded
// library; @name// names from the library root called name.
func (h *Host) resolve(module, fromKey, fromDisplay string) (resolved, error) {
	if module == "" {
		return resolved{}, fmt.Errorf("empty module name")
	}
	if root, rest, ok := splitRoot(module); ok {
		clean := path.Clean(rest)
		if clean == "." || strings.HasPrefix(clean, "../") || clean == ".." || path.IsAbs(clean) {
			return resolved{}, fmt.Errorf("module %s: path must stay inside @%s//", module, root)
		}
		if root == "stdlib" {
			if h.opts.Stdlib == nil {
				return resolved{}, fmt.Errorf("module %s: no standard library in this host", module)
			}
			return resolved{key: stdlibPrefix + clean, display: stdlibPrefix + clean, fsys: h.opts.Stdlib, fsPath: clean}, nil
		}
		dir, ok := h.opts.Libs[root]
		if !ok {
			return resolved{}, fmt.Errorf("module %s: unknown library root @%s (known: %s); map it with --lib %s=DIR or LOADSTAR_PATH=%s=DIR",
				module, root, h.knownRoots(), root, root)
		}
		file, err := filepath.Abs(filepath.Join(dir, filepath.FromSlash(clean)))
		if err != nil {
			return resolved{}, err
		}
		return resolved{key: file, display: "@" + root + "//" + clean, file: file}, nil
	}
	// Relative to the loading module.
	if strings.HasPrefix(fromKey, stdlibPrefix) {
		p := path.Clean(path.Join(path.Dir(strings.TrimPrefix(fromKey, stdlibPrefix)), module))
		if strings.HasPrefix(p, "../") || p == ".." {
			return resolved{}, fmt.Errorf("module %s: path escapes the standard library", module)
		}
		return resolved{key: stdlibPrefix + p, display: stdlibPrefix + p, fsys: h.opts.Stdlib, fsPath: p}, nil
	}
	var file string
	if filepath.IsAbs(module) {
		file = filepath.Clean(module)
	} else {
		file = filepath.Join(filepath.Dir(fromKey), filepath.FromSlash(module))
	}
	display := displayPath(file)
	if root, rest, ok := splitRoot(fromDisplay); ok && !filepath.IsAbs(module) {
		display = "@" + root + "//" + path.Clean(path.Join(path.Dir(rest), module))
	}
	return resolved{key: file, display: display, file: file}, nil
}

// splitRoot splits "@name//rest" into name and rest.
func splitRoot(module string) (root, rest string, ok bool) {
	if !strings.HasPrefix(module, "@") {
		return "", "", false
	}
	i := strings.Index(module, "//")
	if i < 2 {
		return "", "", false
	}
	return module[1:i], module[i+2:], true
}

func (h *Host) knownRoots() string {
	names := []string{}
	if h.opts.Stdlib != nil {
		names = append(names, "@stdlib")
	}
	for n := range h.opts.Libs {
		names = append(names, "@"+n)
	}
	sort.Strings(names)
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}
