package starplugin_test

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

// The example package in docs/plugins.md is the tested one in
// testdata/plugins: every code block marked <!-- file: PATH --> must equal
// that file.
func TestDocsExampleMatchesTestdata(t *testing.T) {
	root := filepath.Join("..", "..")
	doc, err := os.ReadFile(filepath.Join(root, "docs", "plugins.md"))
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)<!-- file: (\\S+) -->\n```[a-z]*\n(.*?)```").FindAllSubmatch(doc, -1)
	if len(blocks) < 4 {
		t.Fatalf("found %d marked code blocks in docs/plugins.md, want the example package's 4 files", len(blocks))
	}
	for _, b := range blocks {
		want, err := os.ReadFile(filepath.Join(root, string(b[1])))
		if err != nil {
			t.Errorf("docs/plugins.md shows %s: %v", b[1], err)
			continue
		}
		if string(b[2]) != string(want) {
			t.Errorf("docs/plugins.md's copy of %s differs from the file: update the docs", b[1])
		}
	}
}
