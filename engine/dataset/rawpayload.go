package dataset

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// RawPayload is AIPerf's raw_payload format: request bodies sent verbatim.
const RawPayload = "raw_payload"

// rawPayloadLoader reads request bodies to send as they are (AIPerf's
// raw_payload): a JSONL file is one single-turn conversation per line; a
// directory holds one conversation per .jsonl file (sorted by name), its
// lines the turns. Each body is a JSON object sent unchanged — no history,
// model or stream flag is added — so each turn carries its whole context.
type rawPayloadLoader struct{}

func (rawPayloadLoader) DefaultSampler() string { return Sequential }

// Detect takes a line with a messages list and a field no trace row has
// (a request body: model, stream, max_tokens, ...), or a directory whose
// first .jsonl file starts with one.
func (rawPayloadLoader) Detect(s *Sample) bool {
	if s.IsDir {
		files, _ := rawPayloadFiles(s.Path)
		if len(files) == 0 {
			return false
		}
		first, err := SampleOf(files[0], false)
		return err == nil && looksLikeBody(first.Keys)
	}
	return !s.Document && looksLikeBody(s.Keys)
}

func looksLikeBody(keys map[string]bool) bool {
	if !keys["messages"] || keys["conversation_id"] || keys["turns"] {
		return false
	}
	trace := strings.Split(strings.ReplaceAll(traceFields, " ", ""), ",")
	for k := range keys {
		known := false
		for _, f := range trace {
			known = known || f == k
		}
		if !known {
			return true
		}
	}
	return false
}

func rawPayloadFiles(dir string) ([]string, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.jsonl"))
	sort.Strings(files)
	return files, err
}

// Load reads the file, or the directory's files.
func (rawPayloadLoader) Load(ctx context.Context, req *LoadRequest) (Dataset, error) {
	st, err := os.Stat(req.Path)
	if err != nil {
		return nil, err
	}
	var convs []Conversation
	if !st.IsDir() {
		err = eachLine(ctx, req.Path, func(line []byte, n int) error {
			t, err := rawTurn(line)
			if err != nil {
				return lineError(req.Path, n, err)
			}
			convs = append(convs, Conversation{ID: sessionName("", len(convs)), Turns: []Turn{t}})
			return nil
		})
		if err != nil {
			return nil, err
		}
	} else {
		files, err := rawPayloadFiles(req.Path)
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			conv := Conversation{ID: strings.TrimSuffix(filepath.Base(f), ".jsonl")}
			err := eachLine(ctx, f, func(line []byte, n int) error {
				t, err := rawTurn(line)
				if err != nil {
					return lineError(f, n, err)
				}
				t.ResetContext = len(conv.Turns) > 0
				conv.Turns = append(conv.Turns, t)
				return nil
			})
			if err != nil {
				return nil, err
			}
			if len(conv.Turns) > 0 {
				convs = append(convs, conv)
			}
		}
	}
	if len(convs) == 0 {
		return nil, fmt.Errorf("%s: no request bodies (a raw_payload file holds one JSON object per line; a directory, .jsonl files of them)", req.Path)
	}
	return NewSet(convs, Info{Sampler: Sequential, Source: req.Path}), nil
}

// rawTurn is a turn that sends body as it is.
func rawTurn(body []byte) (Turn, error) {
	if body[0] != '{' || !json.Valid(body) {
		return Turn{}, fmt.Errorf("expected a JSON object (a request body)")
	}
	var probe struct {
		MaxTokens           *int `json:"max_tokens"`
		MaxCompletionTokens *int `json:"max_completion_tokens"`
	}
	_ = json.Unmarshal(body, &probe)
	t := NewTurn()
	t.RawPayload = compactJSON(body)
	switch {
	case probe.MaxCompletionTokens != nil:
		t.MaxTokens = *probe.MaxCompletionTokens
	case probe.MaxTokens != nil:
		t.MaxTokens = *probe.MaxTokens
	}
	return t, nil
}
