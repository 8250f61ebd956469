package main

import (
	"bytes"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestRepositoryStandsAlone fails when a file of the repository refers to
// material outside it (the design notes next to a developer's checkout): a
// clone must hold everything its code, docs and tests cite. Fixtures are
// copied into the package's testdata/, reference facts written into docs/.
func TestRepositoryStandsAlone(t *testing.T) {
	root := filepath.Join("..", "..")
	// Spelled in pieces so that this file does not match itself.
	outside := [][]byte{[]byte("../" + "shared/"), []byte("/work/" + "shared")}
	for _, f := range repositoryFiles(t, root) {
		b, err := os.ReadFile(filepath.Join(root, f))
		if os.IsNotExist(err) {
			continue // tracked but deleted in this working tree
		}
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range outside {
			if i := bytes.Index(b, s); i >= 0 {
				line := bytes.Count(b[:i], []byte("\n")) + 1
				t.Errorf("%s:%d refers to %s, outside the repository: cite docs/ or a public source, copy fixtures into testdata/", f, line, s)
			}
		}
	}
}

// repositoryFiles lists the tracked files (git ls-files), or every file
// when the tree is not a git checkout (an exported source archive).
func repositoryFiles(t *testing.T, root string) []string {
	t.Helper()
	if out, err := exec.Command("git", "-C", root, "ls-files", "-z").Output(); err == nil {
		files := strings.Split(strings.TrimRight(string(out), "\x00"), "\x00")
		if len(files) > 100 {
			return files
		}
	}
	var files []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == ".git" {
			return filepath.SkipDir
		}
		if d.Type().IsRegular() {
			rel, _ := filepath.Rel(root, p)
			files = append(files, rel)
		}
		return nil
	})
	if err != nil || len(files) < 100 {
		t.Fatalf("listing the repository's files: %d files, %v", len(files), err)
	}
	return files
}
