package logging

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

func TestLazyRunsOnlyWhenEnabled(t *testing.T) {
	var buf bytes.Buffer
	calls := 0
	expensive := Lazy(func() any { calls++; return "computed" })

	log := New(&buf, "text", slog.LevelInfo)
	log.Debug("skipped", "v", expensive)
	if calls != 0 {
		t.Fatalf("lazy value computed %d times with debug off", calls)
	}
	log = New(&buf, "json", slog.LevelDebug)
	log.Debug("kept", "v", expensive)
	if calls != 1 || !strings.Contains(buf.String(), `"v":"computed"`) {
		t.Fatalf("calls=%d output=%s", calls, buf.String())
	}
}
