package export

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"os"
	"path/filepath"

	"github.com/loadstar/loadstar/engine/results"
)

// InputSession is one conversation's exact wire payloads, in send order.
type InputSession struct {
	SessionID string
	Payloads  [][]byte
}

// writeInputs writes inputs.json — {"data":[{"session_id", "payloads":
// [...]}]}, AIPerf's replayable input file (dataset type inputs_json) —
// streaming the sessions, through a temporary file renamed into place.
// JSON payloads are written as JSON values (re-indented, same value);
// other payloads as strings.
func writeInputs(path string, sessions iter.Seq2[InputSession, error]) (err error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("export: inputs: %w", err)
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.partial")
	if err != nil {
		return fmt.Errorf("export: inputs: %w", err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(tmp)
		}
	}()
	w := bufio.NewWriterSize(f, 256<<10)
	_, _ = w.WriteString("{\n  \"data\": [")
	first := true
	var ind bytes.Buffer
	for s, serr := range sessions {
		if serr != nil {
			return fmt.Errorf("export: inputs: %w", serr)
		}
		if !first {
			_ = w.WriteByte(',')
		}
		first = false
		_, _ = w.WriteString("\n    {\n      \"session_id\": ")
		_, _ = w.Write(appendString(nil, s.SessionID))
		_, _ = w.WriteString(",\n      \"payloads\": [")
		for i, p := range s.Payloads {
			if i > 0 {
				_ = w.WriteByte(',')
			}
			_, _ = w.WriteString("\n        ")
			ind.Reset()
			if json.Valid(p) && json.Indent(&ind, p, "        ", "  ") == nil {
				_, _ = w.Write(ind.Bytes())
			} else {
				_, _ = w.Write(appendString(nil, string(p)))
			}
		}
		if len(s.Payloads) > 0 {
			_, _ = w.WriteString("\n      ")
		}
		_, _ = w.WriteString("]\n    }")
	}
	if !first {
		_, _ = w.WriteString("\n  ")
	}
	_, _ = w.WriteString("]\n}\n")
	if err = w.Flush(); err != nil {
		return fmt.Errorf("export: inputs: %w", err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("export: inputs: %w", err)
	}
	if err = os.Chmod(tmp, 0o644); err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		return fmt.Errorf("export: inputs: %w", err)
	}
	return nil
}

// compactJSON returns p compacted when it is one JSON document.
func compactJSON(p []byte) ([]byte, bool) {
	if !json.Valid(p) {
		return nil, false
	}
	var buf bytes.Buffer
	if json.Compact(&buf, p) != nil {
		return nil, false
	}
	return buf.Bytes(), true
}

// Inputs is the inputs.json exporter (plugin inputs). internal/outputs
// hands it the step's payloads before the run (Write); Export reports the
// file.
type Inputs struct{}

// Kind implements Exporter.
func (Inputs) Kind() string { return KindInputs }

// Write writes inputs.json into t.
func (Inputs) Write(t *Target, sessions iter.Seq2[InputSession, error]) error {
	return writeInputs(t.Path(KindInputs), sessions)
}

// Export implements Exporter: it returns the path when Write produced it.
func (Inputs) Export(_ context.Context, t *Target, _ *results.Summary) (string, error) {
	p := t.Path(KindInputs)
	if _, err := os.Stat(p); err != nil {
		return "", nil
	}
	return p, nil
}
