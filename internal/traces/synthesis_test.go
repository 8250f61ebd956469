package traces

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/loadstar/loadstar/engine/dataset"
)

func sampleRows(t *testing.T) []dataset.TraceRow {
	t.Helper()
	rows, _, err := dataset.ReadTrace(context.Background(), sample, "")
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

func synth(t *testing.T, s dataset.Synthesis, rows []dataset.TraceRow) []dataset.TraceRow {
	t.Helper()
	out, dropped, err := s.Apply(rows, 512)
	if err != nil || dropped != 0 {
		t.Fatalf("Apply: %v (%d dropped)", err, dropped)
	}
	return out
}

func leading(a, b []int64) int {
	k := 0
	for k < len(a) && k < len(b) && a[k] == b[k] {
		k++
	}
	return k
}

// With every multiplier at 1 the trace is the same up to its hash ids'
// numbers: its analysis is identical, and it reads back from the file the
// same.
func TestSynthesisIdentity(t *testing.T) {
	rows := sampleRows(t)
	out := synth(t, dataset.NoSynthesis(), rows)
	before, after := Analyze(rows, Options{}), Analyze(out, Options{})
	if !reflect.DeepEqual(before, after) {
		t.Errorf("the identity changes the analysis:\n%+v\n%+v", before, after)
	}
	var buf bytes.Buffer
	if err := WriteTrace(&buf, out); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "out.jsonl")
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	back, _, err := dataset.ReadTrace(context.Background(), p, dataset.MooncakeTrace)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(Analyze(back, Options{}), after) {
		t.Error("the written trace reads back differently")
	}
}

func TestSynthesisScales(t *testing.T) {
	rows := sampleRows(t)
	base := Analyze(rows, Options{})

	s := dataset.NoSynthesis()
	s.Speedup = 2.5
	fast := Analyze(synth(t, s, rows), Options{})
	near(t, "rate at speedup 2.5", fast.Arrivals.Rate, base.Arrivals.Rate*2.5)
	near(t, "hit rate at speedup 2.5", fast.CacheHitRate, base.CacheHitRate)

	// Rows 0 and 2 share their first 6 hash ids; with prefixes twice as
	// long they share 12, and their own tails keep their block counts.
	s = dataset.NoSynthesis()
	s.PrefixLen = 2
	long := synth(t, s, rows)
	if k := leading(long[0].HashIDs, long[2].HashIDs); k != 12 {
		t.Errorf("rows 0 and 2 share %d leading blocks, want 12", k)
	}
	// Row 0 is wholly shared (6 blocks, the last one partial: 2913 = 5·512 + 353).
	if got := long[0].InputLength; len(long[0].HashIDs) != 12 || got != 11*512+353 {
		t.Errorf("row 0: %d blocks, %d tokens; want 12 and %d", len(long[0].HashIDs), got, 11*512+353)
	}
	if a := Analyze(long, Options{}); a.ContextLengthStats.Mean <= 1.9*base.ContextLengthStats.Mean || a.PrefixReuseRatio <= base.PrefixReuseRatio {
		t.Errorf("context %v → %v, reuse %v → %v", base.ContextLengthStats.Mean, a.ContextLengthStats.Mean, base.PrefixReuseRatio, a.PrefixReuseRatio)
	}

	// Own tails twice as long: row 7 ([0 114 115], 114 and 115 its own)
	// gets four own blocks after the shared 0.
	s = dataset.NoSynthesis()
	s.PromptLen = 2
	tail := synth(t, s, rows)
	if len(tail[7].HashIDs) != 5 || leading(tail[7].HashIDs, tail[0].HashIDs) != 1 || tail[7].InputLength != 4*512+(1341-2*512) {
		t.Errorf("row 7: %v, %d tokens", tail[7].HashIDs, tail[7].InputLength)
	}

	// Four copies of the tree: rows in different copies share nothing,
	// and sharing drops.
	s = dataset.NoSynthesis()
	s.PrefixRoots, s.Seed = 4, 7
	roots := synth(t, s, rows)
	copies := map[int64]bool{}
	for i, r := range roots {
		copies[r.HashIDs[0]%4] = true
		for j := range i {
			if roots[j].HashIDs[0]%4 != r.HashIDs[0]%4 && leading(roots[j].HashIDs, r.HashIDs) != 0 {
				t.Fatalf("rows %d and %d are in different copies but share a prefix", i, j)
			}
		}
	}
	a := Analyze(roots, Options{})
	if len(copies) < 2 || a.CacheHitRate >= base.CacheHitRate || a.NumPrefixGroups != len(copies) {
		t.Errorf("%d copies, hit rate %v (was %v), %d prefix groups", len(copies), a.CacheHitRate, base.CacheHitRate, a.NumPrefixGroups)
	}

	s = dataset.NoSynthesis()
	s.OutputLen, s.MaxOSL, s.MaxISL = 3, 1000, 4000
	capped, dropped, err := s.Apply(rows, 512)
	if err != nil || dropped != 7 || len(capped) != 33 {
		t.Fatalf("max ISL 4000 drops %d rows (%v), keeps %d; want 7 and 33", dropped, err, len(capped))
	}
	for _, r := range capped {
		if r.InputLength > 4000 || r.OutputLength > 1000 || r.OutputLength%16 != 0 && r.OutputLength != 1000 {
			t.Errorf("row %d: ISL %d OSL %d", r.Line, r.InputLength, r.OutputLength)
		}
	}
	if _, _, err := (dataset.Synthesis{Speedup: 0, PrefixLen: 1, PrefixRoots: 0, PromptLen: 1, OutputLen: 1}).Apply(rows, 512); err == nil ||
		!strings.Contains(err.Error(), "speedup ratio must be a number > 0") || !strings.Contains(err.Error(), "prefix root multiplier must be >= 1") {
		t.Errorf("bad parameters: %v", err)
	}
}
