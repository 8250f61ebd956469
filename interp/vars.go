package interp

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"go.starlark.net/starlark"

	"github.com/loadstar/loadstar/engine/errext"
)

// ParseVars turns --var key=value flags into the frozen `vars` dict scripts
// see. Values are parsed as int, float or bool (true/false, True/False)
// when they look like one, else kept as strings. A later flag for the same
// key wins.
func ParseVars(flags []string) (*starlark.Dict, error) {
	d := starlark.NewDict(len(flags))
	for _, f := range flags {
		k, v, ok := strings.Cut(f, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return nil, errext.Errorf(errext.Usage, "--var %q: want key=value", f)
		}
		if err := d.SetKey(starlark.String(k), ParseScalar(v)); err != nil {
			return nil, err
		}
	}
	d.Freeze()
	return d, nil
}

// ParseScalar converts a command-line value to the Starlark value it looks
// like: int, float, bool or string.
func ParseScalar(v string) starlark.Value {
	if i, err := strconv.ParseInt(v, 10, 64); err == nil {
		return starlark.MakeInt64(i)
	}
	if f, err := strconv.ParseFloat(v, 64); err == nil && strings.ContainsAny(v, ".eE") && !strings.ContainsAny(v, "xX") {
		return starlark.Float(f)
	}
	switch v {
	case "true", "True":
		return starlark.True
	case "false", "False":
		return starlark.False
	}
	return starlark.String(v)
}

// EnvPath is the environment variable listing library roots as
// name=DIR entries separated by the OS path-list separator (':' on Unix).
const EnvPath = "LOADSTAR_PATH"

// ParseLibs merges library roots from the LOADSTAR_PATH value env and from
// --lib name=DIR flags (flags win). Directories are made absolute.
func ParseLibs(flags []string, env string) (map[string]string, error) {
	libs := map[string]string{}
	add := func(entry, from string) error {
		name, dir, ok := strings.Cut(entry, "=")
		name, dir = strings.TrimSpace(name), strings.TrimSpace(dir)
		if !ok || name == "" || dir == "" {
			return errext.Errorf(errext.Usage, "%s entry %q: want name=DIR", from, entry)
		}
		if name == "stdlib" {
			return errext.Errorf(errext.Usage, "%s entry %q: the name stdlib is reserved for the embedded library", from, entry)
		}
		abs, err := filepath.Abs(dir)
		if err != nil {
			return err
		}
		if st, err := os.Stat(abs); err != nil || !st.IsDir() {
			return errext.Errorf(errext.Usage, "%s entry %q: %s is not a directory", from, entry, dir)
		}
		libs[name] = abs
		return nil
	}
	if env != "" {
		for _, e := range filepath.SplitList(env) {
			if strings.TrimSpace(e) == "" {
				continue
			}
			if err := add(e, EnvPath); err != nil {
				return nil, err
			}
		}
	}
	for _, f := range flags {
		if err := add(f, "--lib"); err != nil {
			return nil, err
		}
	}
	return libs, nil
}
