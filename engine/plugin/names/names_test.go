package names_test

import (
	"os"
	"strings"
	"testing"

	"github.com/loadstar/loadstar/engine/plugin/names/internal/namegen"
)

func TestGeneratedNamesUpToDate(t *testing.T) {
	cur, err := os.ReadFile(namegen.File)
	if err != nil {
		t.Fatal(err)
	}
	if err := namegen.Stale(cur); err != nil {
		t.Fatal(err)
	}
}

func TestStaleFileDetected(t *testing.T) {
	src, err := namegen.Source()
	if err != nil {
		t.Fatal(err)
	}
	edited := []byte(strings.Replace(string(src), "type EndpointType string", "type EndpointType string\n\nconst EndpointTypeGone EndpointType = \"gone\"", 1))
	err = namegen.Stale(edited)
	if err == nil || !strings.Contains(err.Error(), "run `go generate ./engine/plugin/names`") {
		t.Errorf("stale file not reported: %v", err)
	}
}

func TestIdent(t *testing.T) {
	for in, want := range map[string]string{
		"request_rate": "RequestRate", "hf-tei-rankings": "HFTEIRankings", "none": "None",
		"speed_bench_12": "SpeedBench12", "round_robin": "RoundRobin", "csv": "CSV",
	} {
		if got := namegen.Ident(in); got != want {
			t.Errorf("Ident(%q) = %q, want %q", in, got, want)
		}
	}
}
