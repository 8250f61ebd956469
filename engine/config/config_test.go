package config

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/loadstar/loadstar/engine/ordered"
	"github.com/loadstar/loadstar/engine/plugin"
)

func TestDescribeRedactsSecrets(t *testing.T) {
	b := Defaults()
	b.Endpoint = &plugin.Spec{Category: plugin.Endpoint, Name: "chat", Args: plugin.Args{
		"api_key":    "sk-secret-1",
		"headers":    []string{"Authorization: Bearer sk-secret-2", "X-Team: infra"},
		"extra":      ordered.FromPairs("x-api-key", "sk-secret-3", "temperature", 0.5),
		"list":       []any{"api-key: sk-secret-4", int64(3)},
		"max_tokens": int64(5),
		"timeout":    30 * time.Second,
	}}
	out, err := json.Marshal(b.Describe())
	if err != nil {
		t.Fatal(err)
	}
	s := string(out)
	if strings.Contains(s, "sk-secret") {
		t.Fatalf("secret leaked: %s", s)
	}
	for _, want := range []string{`"X-Team: infra"`, `"max_tokens":5`, `"timeout":"30s"`, `"temperature":0.5`} {
		if !strings.Contains(s, want) {
			t.Errorf("missing %s in %s", want, s)
		}
	}
}

func TestValidateNamesFields(t *testing.T) {
	b := Defaults()
	b.Stop.Requests = -1
	b.Cancel.Delay = time.Second
	b.Output.ExportLevel = "all"
	err := b.Validate()
	if err == nil {
		t.Fatal("want errors")
	}
	for _, want := range []string{"endpoint: required", "requests: must be >= 0", "cancel.delay: needs cancel.percent", `export_level: must be summary, records or raw, got "all"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("missing %q in %v", want, err)
		}
	}
}

// export_prefix names files inside the artifact directory; a path that
// could lead out of it is refused, naming the field.
func TestValidateExportPrefixIsAFileName(t *testing.T) {
	for p, ok := range map[string]bool{"run1": true, "run1.json": true, "../x": false, "/tmp/x": false, "..": false, ".": false, `a\b`: false, "sub/x": false} {
		b := Defaults()
		b.Endpoint = &plugin.Spec{Category: plugin.Endpoint, Name: "chat"}
		b.Output.Prefix = p
		err := b.Validate()
		if got := err == nil || !strings.Contains(err.Error(), "export_prefix"); got != ok {
			t.Errorf("export_prefix %q: err %v", p, err)
		}
	}
}
