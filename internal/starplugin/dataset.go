package starplugin

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"

	"go.starlark.net/starlark"

	"github.com/loadstar/loadstar/engine/dataset"
	"github.com/loadstar/loadstar/engine/ordered"
)

// The custom_dataset_loader protocol: a loader for a file format of your
// own, one JSON record per line (JSONL) or one JSON array of records.
//
//	convert(record) -> dict | list | None
//	detect(sample) -> bool              (optional)
//
// convert maps one decoded record of the file to loadstar's own dataset
// records — the single_turn shape {"text" or "texts", "session_id",
// "output_length", "images", "audios", "videos", "timestamp", "delay",
// "role", "extra"} or the multi_turn shape {"session_id", "turns": [...]}
// (see dataset.FromRecords) —, a list of them, or None to skip it. Records with
// the same session_id become one conversation, in file order.
//
// detect lets `dataset.file(path)` pick the loader without type=: sample is
// {"path", "keys" (the first record's top-level keys, sorted), "type" (its
// "type" field or "")}. Without detect the loader is used only when named.
//
// The constructor's struct may also set default_sampler ("sequential",
// "random" or "shuffle"; default "sequential").
var loaderProtocol = &protocol{
	methods: []method{
		{name: "convert", arity: 1, args: "record"},
		{name: "detect", arity: 1, args: "sample", optional: true},
	},
	adapt: adaptLoader,
}

type scriptLoader struct {
	label   string
	convert starlark.Callable
	detect  starlark.Callable
	sampler string
	threads *threadPool
}

var _ dataset.Loader = (*scriptLoader)(nil)

func adaptLoader(in *adaptInput) (any, error) {
	l := &scriptLoader{label: in.label, convert: in.methods["convert"], detect: in.methods["detect"],
		sampler: "sequential", threads: in.threads}
	if x, ok := in.impl.value.(starlark.HasAttrs); ok {
		if v, err := x.Attr("default_sampler"); err == nil && v != nil && v != starlark.None {
			s, ok := starlark.AsString(v)
			if !ok {
				return nil, fmt.Errorf("%s: default_sampler must be a string, got %s", in.label, v.Type())
			}
			l.sampler = s
		}
	}
	switch l.sampler {
	case "sequential", "random", "shuffle":
	default:
		return nil, fmt.Errorf("%s: default_sampler must be sequential, random or shuffle, got %q", in.label, l.sampler)
	}
	return l, nil
}

// DefaultSampler implements dataset.Loader.
func (l *scriptLoader) DefaultSampler() string { return l.sampler }

// Detect implements dataset.Loader; a failing detect means "not mine".
func (l *scriptLoader) Detect(s *dataset.Sample) bool {
	if l.detect == nil || s.IsDir {
		return false
	}
	keys := make([]string, 0, len(s.Keys))
	for k := range s.Keys {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	kv := make([]starlark.Value, len(keys))
	for i, k := range keys {
		kv[i] = starlark.String(k)
	}
	d := starlark.NewDict(3)
	_ = d.SetKey(starlark.String("path"), starlark.String(s.Path))
	_ = d.SetKey(starlark.String("keys"), starlark.NewList(kv))
	_ = d.SetKey(starlark.String("type"), starlark.String(s.TypeField))
	out, err := l.threads.call(l.detect, d)
	return err == nil && out.Truth() == starlark.True
}

// Load implements dataset.Loader: it reads the file, converts each record
// and builds the dataset; errors name the file and line.
func (l *scriptLoader) Load(ctx context.Context, req *dataset.LoadRequest) (dataset.Dataset, error) {
	st, err := os.Stat(req.Path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", l.label, err)
	}
	if st.IsDir() {
		return nil, fmt.Errorf("%s: %s is a folder; this loader reads one JSONL or JSON file", l.label, req.Path)
	}
	data, err := os.ReadFile(req.Path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", l.label, err)
	}
	th := l.threads.get()
	defer l.threads.put(th)
	var records []any
	var lines []int // source line of each converted record
	add := func(line int, rec starlark.Value) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		th.Steps = 0
		out, err := starlark.Call(th, l.convert, starlark.Tuple{rec}, nil)
		if err != nil {
			return fmt.Errorf("%s:%d: %s: convert: %s", req.Path, line, l.label, describeEvalError(err))
		}
		items := []starlark.Value{out}
		if list, ok := out.(*starlark.List); ok {
			items = items[:0]
			for i := 0; i < list.Len(); i++ {
				items = append(items, list.Index(i))
			}
		}
		for _, it := range items {
			if it == starlark.None {
				continue
			}
			g, err := fromStarlark(it)
			if err != nil {
				return fmt.Errorf("%s:%d: %s: convert returned %s: %w", req.Path, line, l.label, it.Type(), err)
			}
			if _, ok := g.(*ordered.Map); !ok {
				return fmt.Errorf("%s:%d: %s: convert must return a dict, a list of dicts or None, got %s", req.Path, line, l.label, it.Type())
			}
			records = append(records, g)
			lines = append(lines, line)
		}
		return nil
	}
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) > 0 && trimmed[0] == '[' {
		// One JSON array of records.
		v, err := starlark.Call(th, jsonDecode, starlark.Tuple{starlark.String(trimmed)}, nil)
		if err != nil {
			return nil, fmt.Errorf("%s: not a JSON array of records: %v", req.Path, err)
		}
		list := v.(*starlark.List)
		for i := 0; i < list.Len(); i++ {
			if err := add(i+1, list.Index(i)); err != nil {
				return nil, err
			}
		}
	} else {
		sc := bufio.NewScanner(bytes.NewReader(data))
		sc.Buffer(make([]byte, 0, 64<<10), 256<<20)
		for line := 1; sc.Scan(); line++ {
			text := bytes.TrimSpace(sc.Bytes())
			if len(text) == 0 {
				continue
			}
			v, err := starlark.Call(th, jsonDecode, starlark.Tuple{starlark.String(text)}, nil)
			if err != nil {
				return nil, fmt.Errorf("%s:%d: not a JSON record: %v", req.Path, line, err)
			}
			if err := add(line, v); err != nil {
				return nil, err
			}
		}
		if err := sc.Err(); err != nil {
			return nil, fmt.Errorf("%s: %w", req.Path, err)
		}
	}
	if len(records) == 0 {
		return nil, fmt.Errorf("%s: %s: convert returned no records", req.Path, l.label)
	}
	ds, err := dataset.FromRecords(records, filepath.Dir(req.Path))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", l.label, locateRecord(err, req.Path, lines))
	}
	return ds, nil
}

var recordIndexRE = regexp.MustCompile(`^records\[(\d+)\]`)

// locateRecord rewrites FromRecords' "records[i]" into the file and line
// the record was converted from.
func locateRecord(err error, path string, lines []int) error {
	msg := err.Error()
	m := recordIndexRE.FindStringSubmatch(msg)
	if m == nil {
		return err
	}
	i, _ := strconv.Atoi(m[1])
	if i < 0 || i >= len(lines) {
		return err
	}
	return fmt.Errorf("%s:%d: converted record%s", path, lines[i], msg[len(m[0]):])
}
