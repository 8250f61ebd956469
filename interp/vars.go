package interp

import (
	"os"
	"path/filepath"
	"strings"

	"github.com/loadstar/loadstar/engine/errext"
)

// ParseVars turns --var key=value flags into the frozen `vars` value
// scripts see. Values stay the text that was given ("0123" stays "0123");
// a script asks for another type with vars.get(name, default), which
// converts to the default's type. A later flag for the same key wins.
func ParseVars(flags []string) (*Vars, error) {
	v := &Vars{values: map[string]string{}}
	for _, f := range flags {
		k, val, ok := strings.Cut(f, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return nil, errext.Errorf(errext.Usage, "--var %q: want key=value", f)
		}
		if _, seen := v.values[k]; !seen {
			v.keys = append(v.keys, k)
		}
		v.values[k] = val
	}
	return v, nil
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
