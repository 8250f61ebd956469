package dataset

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Custom loads a dataset file (composer "custom"; the script's
// dataset.file(path, type=...)).
type Custom struct {
	Path string
	// Type names the custom_dataset_loader; "" detects it from the data.
	Type      string
	BlockSize int // tokens per trace hash id (0 = the format's, see DefaultBlockSize)
	Entries   int // random_pool conversations (default 100)
	// Records, when set, are the data itself (see FromRecords) and Path is
	// not read.
	Records []any
	// Synthesis, when set, rescales a token-count trace as it is loaded.
	Synthesis *Synthesis
}

// Compose resolves the path, picks the loader and loads.
func (c *Custom) Compose(ctx context.Context, env *Env) (Dataset, error) {
	if c.Records != nil {
		if c.Path != "" {
			return nil, fmt.Errorf("dataset.custom: give path or records, not both")
		}
		return FromRecords(c.Records, env.BaseDir)
	}
	if c.Path == "" {
		return nil, fmt.Errorf("dataset.file: path is required")
	}
	path := c.Path
	if !filepath.IsAbs(path) && env.BaseDir != "" {
		path = filepath.Join(env.BaseDir, path)
	}
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("dataset.file: %w", err)
	}
	lookup := env.Loader
	if lookup == nil {
		builtin := builtinLoaders()
		lookup = func(name string) (Loader, error) {
			if l, ok := builtin[name]; ok {
				return l, nil
			}
			return nil, fmt.Errorf("unknown dataset type %q (want %s)", name, strings.Join(sortedKeys(builtin), ", "))
		}
	}
	name := c.Type
	if name == "" {
		sample, err := SampleOf(path, st.IsDir())
		if err != nil {
			return nil, err
		}
		if l, err := lookup(sample.TypeField); sample.TypeField != "" && err == nil && l != nil {
			name = sample.TypeField // the record names its format
		} else {
			for _, n := range detectOrder {
				l, err := lookup(n)
				if err == nil && l.Detect(sample) {
					name = n
					break
				}
			}
		}
		if name == "" {
			return nil, fmt.Errorf("dataset.file %s: cannot tell the dataset type from the first record; give type= (%s)", path, strings.Join(detectOrder, ", "))
		}
	}
	l, err := lookup(name)
	if err != nil {
		return nil, fmt.Errorf("dataset.file %s: %w", path, err)
	}
	if c.Synthesis != nil {
		if _, ok := l.(interface{ tokenTrace() }); !ok {
			return nil, fmt.Errorf("dataset.file %s: synthesis applies to token-count traces (mooncake_trace, bailian_trace, burst_gpt_trace), not %s", path, name)
		}
	}
	return l.Load(ctx, &LoadRequest{Path: path, Env: env, BlockSize: c.BlockSize, Entries: c.Entries, Synthesis: c.Synthesis})
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// SampleOf reads what format detection needs: the keys of the first
// non-empty line, or of the document when the file is one JSON object
// spread over lines; TypeField is the record's "type" field, if any.
func SampleOf(path string, isDir bool) (*Sample, error) {
	s := &Sample{Path: path, IsDir: isDir}
	if isDir {
		return s, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 1<<20)
	var first []byte
	for {
		line, err := br.ReadSlice('\n')
		if t := bytes.TrimSpace(line); len(t) > 0 {
			first = t
			break
		}
		if err != nil {
			break
		}
	}
	var rec map[string]json.RawMessage
	if json.Unmarshal(first, &rec) == nil {
		s.Keys = map[string]bool{}
		for k := range rec {
			s.Keys[k] = true
		}
		if t, ok := rec["type"]; ok {
			json.Unmarshal(t, &s.TypeField)
		}
		// A one-line inputs.json is a document too.
		_, s.Document = rec["data"]
		return s, nil
	}
	if bytes.HasPrefix(first, []byte("[")) {
		// A JSON array (ShareGPT): the keys of its first element.
		if _, err := f.Seek(0, 0); err != nil {
			return nil, err
		}
		dec := json.NewDecoder(bufio.NewReader(f))
		s.Document, s.Array, s.Keys = true, true, map[string]bool{}
		if tok, err := dec.Token(); err == nil && tok == json.Delim('[') && dec.More() {
			var elem map[string]json.RawMessage
			if dec.Decode(&elem) == nil {
				for k := range elem {
					s.Keys[k] = true
				}
			}
		}
		return s, nil
	}
	if len(first) > 0 && first[0] != '{' && bytes.IndexByte(first, ',') > 0 {
		// A CSV header line (BurstGPT).
		s.CSVHeader = map[string]bool{}
		for _, c := range strings.Split(string(first), ",") {
			s.CSVHeader[strings.Trim(strings.TrimSpace(strings.TrimPrefix(c, "\ufeff")), `"`)] = true
		}
		return s, nil
	}
	if bytes.HasPrefix(first, []byte("{")) {
		// A pretty-printed document: read its top-level keys.
		if _, err := f.Seek(0, 0); err != nil {
			return nil, err
		}
		dec := json.NewDecoder(bufio.NewReader(f))
		s.Document, s.Keys = true, map[string]bool{}
		if tok, err := dec.Token(); err == nil && tok == json.Delim('{') {
			for dec.More() {
				tok, err := dec.Token()
				if err != nil {
					break
				}
				if k, ok := tok.(string); ok {
					s.Keys[k] = true
				}
				var skip json.RawMessage
				if dec.Decode(&skip) != nil {
					break
				}
			}
		}
	}
	return s, nil
}
