package workspace

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/loadstar/loadstar/engine/errext"
)

func write(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for name, body := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		if strings.HasSuffix(name, "/") {
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestFindWalksUpToTheNearestFile(t *testing.T) {
	root := t.TempDir()
	write(t, root, map[string]string{
		"loadstar.yaml":         "libs: {outer: lib}\n",
		"lib/":                  "",
		"proj/loadstar.yaml":    "# the project\nlibs:\n  team: team_lib\nplugins:\n  - plugins\n",
		"proj/team_lib/":        "",
		"proj/plugins/":         "",
		"proj/scenarios/deep/x": "",
	})
	ws, err := Find(filepath.Join(root, "proj", "scenarios", "deep"))
	if err != nil {
		t.Fatal(err)
	}
	if ws.File != filepath.Join(root, "proj", "loadstar.yaml") || ws.Libs["team"] != filepath.Join(root, "proj", "team_lib") ||
		len(ws.Libs) != 1 || len(ws.Plugins) != 1 || ws.Plugins[0] != filepath.Join(root, "proj", "plugins") {
		t.Errorf("workspace %+v", ws)
	}
	none, err := Find(t.TempDir())
	if err != nil || none.File != "" || len(none.Libs) != 0 {
		t.Errorf("no file: %+v, %v", none, err)
	}
}

func TestReadErrorsNameTheFileAndEntry(t *testing.T) {
	for body, want := range map[string]string{
		"libs: {team: missing}\n": "libs: team: missing is not a directory",
		"plugins: [nope]\n":       "plugins[0]: nope is not a directory",
		"libs: {stdlib: .}\n":     "the name stdlib is reserved",
		"lib: {team: .}\n":        "field lib not found",
		"libs: [a, b]\n":          "want libs: {name: DIR}",
		"":                        "", // empty: fine
		"libs: {\"a/b\": .}\n":    "is not a library root name",
	} {
		dir := t.TempDir()
		p := filepath.Join(dir, FileName)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := Read(p)
		switch {
		case want == "" && err != nil:
			t.Errorf("%q: %v", body, err)
		case want != "" && (err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), p) || errext.ExitCodeOf(err) != errext.Usage):
			t.Errorf("%q: %v (code %d), want %q naming the file", body, err, errext.ExitCodeOf(err), want)
		}
	}
}
