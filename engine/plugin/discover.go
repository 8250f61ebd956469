package plugin

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
)

// EnvPlugins is the environment variable listing plugin package folders,
// separated like PATH (':' on Unix).
const EnvPlugins = "LOADSTAR_PLUGINS"

// localPluginsDir is the folder whose subfolders are plugin packages,
// relative to the working directory.
const localPluginsDir = "loadstar_plugins"

// LocalPluginsSource is the PackageDir.Source of the packages found in
// ./loadstar_plugins/ of the working directory.
const LocalPluginsSource = "./" + localPluginsDir

// Discover lists the plugin package folders, in the order they are
// registered: each --plugins flag, then each LOADSTAR_PLUGINS entry, then
// every ./loadstar_plugins/*/ holding a plugins.yaml (sorted by name).
//
// A flag, a LOADSTAR_PLUGINS entry or ./loadstar_plugins may name a package folder (it holds
// plugins.yaml) or a folder of packages (its subfolders do). A folder found
// twice is listed once. Folders that do not exist or hold no package are
// errors; the others are still returned.
//
//	dirs, err := plugin.Discover(cli.Plugins, os.Getenv(plugin.EnvPlugins), ".")
//	reg, err := catalog.New(plugin.WithPackages(dirs...))
func Discover(flags []string, envList string, workDir string) ([]PackageDir, error) {
	var out []PackageDir
	var errs []error
	seen := map[string]bool{}
	addPkg := func(dir, source string) {
		abs, err := filepath.Abs(dir)
		if err != nil {
			abs = dir
		}
		if seen[abs] {
			return
		}
		seen[abs] = true
		out = append(out, PackageDir{Dir: abs, Source: source})
	}
	addArg := func(dir, source string) {
		st, err := os.Stat(dir)
		if err != nil {
			errs = append(errs, fmt.Errorf("plugin folder %s (from %s): %w", dir, source, err))
			return
		}
		if !st.IsDir() {
			errs = append(errs, fmt.Errorf("plugin folder %s (from %s): not a folder", dir, source))
			return
		}
		if isFile(filepath.Join(dir, "plugins.yaml")) {
			addPkg(dir, source)
			return
		}
		subs := packageSubdirs(dir)
		if len(subs) == 0 {
			errs = append(errs, fmt.Errorf("plugin folder %s (from %s): no plugins.yaml in it or in its subfolders", dir, source))
		}
		for _, s := range subs {
			addPkg(s, source)
		}
	}
	for _, d := range flags {
		addArg(d, "--plugins")
	}
	for _, d := range filepath.SplitList(envList) {
		if d != "" {
			addArg(d, EnvPlugins)
		}
	}
	if workDir != "" {
		// ./loadstar_plugins is optional; once there it is read as a flag
		// is: a package copied to it (cp -r pkg loadstar_plugins when the
		// folder did not exist) counts, an empty one is an error, never
		// ignored in silence.
		if local := filepath.Join(workDir, localPluginsDir); isDir(local) {
			addArg(local, LocalPluginsSource)
		}
	}
	return out, errors.Join(errs...)
}

func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}

func isFile(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}

// packageSubdirs returns dir's subfolders that hold a plugins.yaml, sorted.
func packageSubdirs(dir string) []string {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range ents {
		p := filepath.Join(dir, e.Name())
		if st, err := os.Stat(p); err != nil || !st.IsDir() { // follows symlinks
			continue
		}
		if isFile(filepath.Join(p, "plugins.yaml")) {
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out
}
