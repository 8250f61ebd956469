package main

import (
	"bytes"
	"os"
	"testing"
)

// TestScenarioReferenceIsCurrent fails when docs/scenarios.md differs from
// what `loadstar doc` generates. Refresh: go test ./cmd/loadstar -run Reference -update
func TestScenarioReferenceIsCurrent(t *testing.T) {
	var out, errb bytes.Buffer
	if code := runMain([]string{"doc", "--markdown"}, &out, &errb); code != 0 {
		t.Fatalf("doc exited %d: %s", code, errb.String())
	}
	const path = "../../docs/scenarios.md"
	if *update {
		if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	have, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (generate it with -update)", err)
	}
	if !bytes.Equal(have, out.Bytes()) {
		t.Fatalf("docs/scenarios.md is stale: run `go test ./cmd/loadstar -run Reference -update`")
	}
}
