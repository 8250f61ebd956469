package plugin_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/loadstar/loadstar/engine/plugin"
)

func TestDiscoverOrderAndSources(t *testing.T) {
	root := t.TempDir()
	const m = "schema_version: \"1.0\"\n"
	flagPkg := writePackage(t, filepath.Join(root, "flag-pkg"), m)
	envParent := filepath.Join(root, "env")
	envB := writePackage(t, filepath.Join(envParent, "b"), m)
	envA := writePackage(t, filepath.Join(envParent, "a"), m)
	work := filepath.Join(root, "work")
	local := writePackage(t, filepath.Join(work, "loadstar_plugins", "local"), m)
	if err := os.MkdirAll(filepath.Join(work, "loadstar_plugins", "not-a-package"), 0o755); err != nil {
		t.Fatal(err)
	}
	// The flag package is listed again through the environment: once only.
	env := strings.Join([]string{envParent, flagPkg}, string(os.PathListSeparator))
	got, err := plugin.Discover([]string{flagPkg}, env, work)
	if err != nil {
		t.Fatal(err)
	}
	want := []plugin.PackageDir{
		{Dir: flagPkg, Source: "--plugins"},
		{Dir: envA, Source: "LOADSTAR_PLUGINS"},
		{Dir: envB, Source: "LOADSTAR_PLUGINS"},
		{Dir: local, Source: "./loadstar_plugins"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("[%d] = %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestDiscoverErrors(t *testing.T) {
	empty := t.TempDir()
	missing := filepath.Join(empty, "nope")
	got, err := plugin.Discover([]string{missing, empty}, "", "")
	if len(got) != 0 || err == nil {
		t.Fatalf("got %v, %v", got, err)
	}
	for _, want := range []string{"plugin folder " + missing + " (from --plugins):", "plugin folder " + empty + " (from --plugins): no plugins.yaml in it or in its subfolders"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

// A package copied to ./loadstar_plugins itself (cp -r pkg loadstar_plugins
// when the folder did not exist) is found; an empty ./loadstar_plugins is an
// error, not ignored in silence; none at all is fine.
func TestDiscoverLocalFolderForms(t *testing.T) {
	const m = "schema_version: \"1.0\"\n"
	work := t.TempDir()
	pkg := writePackage(t, filepath.Join(work, "loadstar_plugins"), m)
	got, err := plugin.Discover(nil, "", work)
	if err != nil || len(got) != 1 || got[0] != (plugin.PackageDir{Dir: pkg, Source: "./loadstar_plugins"}) {
		t.Errorf("package at the folder's level: got %v, %v", got, err)
	}
	empty := t.TempDir()
	if err := os.Mkdir(filepath.Join(empty, "loadstar_plugins"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := plugin.Discover(nil, "", empty); err == nil || !strings.Contains(err.Error(), "(from ./loadstar_plugins): no plugins.yaml in it or in its subfolders") {
		t.Errorf("empty folder: %v", err)
	}
	if got, err := plugin.Discover(nil, "", t.TempDir()); err != nil || len(got) != 0 {
		t.Errorf("no folder: %v, %v", got, err)
	}
}
