package main

import (
	"bytes"
	"testing"

	"github.com/loadstar/loadstar/internal/golden"
)

// TestScenarioReferenceIsCurrent fails when docs/scenarios.md differs from
// what `loadstar doc` generates. Refresh: go test ./cmd/loadstar -run Reference -update
func TestScenarioReferenceIsCurrent(t *testing.T) {
	var out, errb bytes.Buffer
	if code := runMain([]string{"doc", "--markdown"}, &out, &errb); code != 0 {
		t.Fatalf("doc exited %d: %s", code, errb.String())
	}
	golden.Check(t, "../../docs/scenarios.md", out.Bytes())
}
