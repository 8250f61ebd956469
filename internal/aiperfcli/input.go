package aiperfcli

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
)

// peekLines bounds how much of a dataset file fileHasTimestamps reads.
const peekLines = 256

// fileHasTimestamps reports whether a dataset file carries timestamps (a
// trace), as AIPerf's loaders detect them to switch to a fixed schedule:
// a "timestamp" on a record or on one of its turns, among the first lines,
// or a Timestamp column of a CSV trace. A JSON document (inputs.json,
// ShareGPT) has none.
func fileHasTimestamps(path string) (bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 64<<10)
	for n := 0; n < peekLines; n++ {
		line, err := r.ReadBytes('\n')
		line = bytes.TrimSpace(line)
		if len(line) > 0 {
			if n == 0 && bytes.IndexByte(line, ',') > 0 && line[0] != '{' && line[0] != '[' {
				return csvHasTimestamp(line), nil // a CSV trace (BurstGPT)
			}
			if line[0] != '{' {
				return false, nil
			}
			var rec struct {
				Timestamp *json.RawMessage `json:"timestamp"`
				Turns     []struct {
					Timestamp *json.RawMessage `json:"timestamp"`
				} `json:"turns"`
			}
			if jerr := json.Unmarshal(line, &rec); jerr != nil {
				if n == 0 {
					return false, nil // not JSONL (a JSON document): no per-line timestamps
				}
				return false, fmt.Errorf("%s:%d: %v", path, n+1, jerr)
			}
			if rec.Timestamp != nil {
				return true, nil
			}
			for _, t := range rec.Turns {
				if t.Timestamp != nil {
					return true, nil
				}
			}
		}
		if err == io.EOF {
			return false, nil
		}
		if err != nil {
			return false, err
		}
	}
	return false, nil
}

// csvHasTimestamp reports whether a CSV header has a Timestamp column.
func csvHasTimestamp(header []byte) bool {
	for _, c := range bytes.Split(header, []byte(",")) {
		if string(bytes.Trim(bytes.TrimSpace(c), `"`)) == "Timestamp" {
			return true
		}
	}
	return false
}
