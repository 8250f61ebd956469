package shardmerge

import (
	"context"
	"strings"
	"testing"

	"github.com/loadstar/loadstar/engine/results"
)

func shardFile(dir string, i, n int, seed uint64, plan string) *File {
	return &File{Format: Format, Dir: dir, Shard: results.Shard{Index: i, Count: n}, BenchmarkID: "b", Seed: seed, Plan: plan}
}

// A merge of anything but every shard of one plan, once each, is refused
// with the directories named.
func TestMergeRefuses(t *testing.T) {
	for _, c := range []struct {
		name  string
		files []*File
		want  string
	}{
		{"missing", []*File{shardFile("a", 0, 3, 1, "p"), shardFile("b", 2, 3, 1, "p")}, "shard(s) 1 of 3 missing (have 0, 2)"},
		{"duplicate", []*File{shardFile("a", 0, 2, 1, "p"), shardFile("b", 0, 2, 1, "p")}, "shard 0 of 2 given twice: a and b"},
		{"count", []*File{shardFile("a", 0, 2, 1, "p"), shardFile("b", 1, 3, 1, "p")}, "b is shard 1 of 3, a is of 2"},
		{"seed", []*File{shardFile("a", 0, 2, 1, "p"), shardFile("b", 1, 2, 2, "p")}, "b ran benchmark b with seed 2, a ran b with seed 1"},
		{"plan", []*File{shardFile("a", 0, 2, 1, "p"), shardFile("b", 1, 2, 1, "q")}, "b and a planned different steps"},
		{"none", nil, "no shard directories"},
	} {
		if _, err := Merge(context.Background(), c.files); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want %q", c.name, err, c.want)
		}
	}
	if _, err := Read(t.TempDir()); err == nil || !strings.Contains(err.Error(), "not the artifact directory of a shard") {
		t.Errorf("a directory without a merge file: %v", err)
	}
	if _, err := Steps([]string{t.TempDir()}); err == nil || !strings.Contains(err.Error(), "not a shard's artifacts") {
		t.Errorf("a root without merge files: %v", err)
	}
}
