// Package workspace finds and reads loadstar.yaml, the project file of a
// directory of scenarios (as go.mod is of a Go module): the library roots
// and plugin folders every scenario under it uses, so that
//
//	loadstar run scenarios/team_library.star
//
// runs without --lib or --plugins flags. The file is found by walking up
// from the scenario's directory; the nearest one wins, and its paths are
// relative to itself:
//
//	# scenarios/loadstar.yaml
//	libs:
//	  team: team_lib        # load("@team//serving.star", ...)
//	plugins:
//	  - plugins             # a plugin package folder, or a folder of packages
//
// LOADSTAR_PATH and --lib override a library root of the same name;
// LOADSTAR_PLUGINS and --plugins add plugin folders.
package workspace

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/loadstar/loadstar/engine/errext"
)

// FileName is the name of the project file.
const FileName = "loadstar.yaml"

// Workspace is a read loadstar.yaml.
type Workspace struct {
	// File is the project file's path ("" when none was found).
	File string
	// Libs maps library root names (@name//) to absolute directories.
	Libs map[string]string
	// Plugins are absolute plugin folders, in the file's order.
	Plugins []string
}

// file is the YAML layout.
type file struct {
	Libs    map[string]string `yaml:"libs"`
	Plugins []string          `yaml:"plugins"`
}

// Find walks up from dir (a scenario's directory) to the filesystem root
// and reads the first loadstar.yaml it meets. No file is an empty
// workspace, not an error.
func Find(dir string) (*Workspace, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	for {
		p := filepath.Join(abs, FileName)
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return Read(p)
		} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, errext.Errorf(errext.Usage, "%s: %v", p, err)
		}
		parent := filepath.Dir(abs)
		if parent == abs {
			return &Workspace{Libs: map[string]string{}}, nil
		}
		abs = parent
	}
}

// Read reads the project file at path. Errors name the file and the entry
// and carry exit code 2 (a bad command-line setting).
func Read(path string) (*Workspace, error) {
	bad := func(format string, a ...any) error {
		return errext.Errorf(errext.Usage, "%s: "+format, append([]any{path}, a...)...)
	}
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, bad("%v", err)
	}
	var f file
	dec := yaml.NewDecoder(bytes.NewReader(src))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil && !errors.Is(err, io.EOF) { // an empty file is an empty workspace
		return nil, bad("%s (want libs: {name: DIR} and plugins: [DIR, ...])", strings.TrimPrefix(err.Error(), "yaml: "))
	}
	base := filepath.Dir(path)
	ws := &Workspace{File: path, Libs: map[string]string{}}
	names := make([]string, 0, len(f.Libs))
	for name := range f.Libs {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		dir := strings.TrimSpace(f.Libs[name])
		switch {
		case name == "stdlib":
			return nil, bad("libs: the name stdlib is reserved for the embedded library")
		case name == "" || strings.ContainsAny(name, "/@ "):
			return nil, bad("libs: %q is not a library root name (letters, digits, _ and - )", name)
		case dir == "":
			return nil, bad("libs: %s: no directory", name)
		}
		abs, err := existingDir(base, dir)
		if err != nil {
			return nil, bad("libs: %s: %v", name, err)
		}
		ws.Libs[name] = abs
	}
	for i, dir := range f.Plugins {
		abs, err := existingDir(base, strings.TrimSpace(dir))
		if err != nil {
			return nil, bad("plugins[%d]: %v", i, err)
		}
		ws.Plugins = append(ws.Plugins, abs)
	}
	return ws, nil
}

// existingDir resolves dir against base and checks that it is a directory.
func existingDir(base, dir string) (string, error) {
	if dir == "" {
		return "", fmt.Errorf("empty path")
	}
	p := dir
	if !filepath.IsAbs(p) {
		p = filepath.Join(base, filepath.FromSlash(dir))
	}
	st, err := os.Stat(p)
	if err != nil || !st.IsDir() {
		return "", fmt.Errorf("%s is not a directory (paths are relative to the loadstar.yaml that names them)", dir)
	}
	return p, nil
}
