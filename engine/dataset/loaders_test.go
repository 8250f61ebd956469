package dataset

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/loadstar/loadstar/engine/ordered"
)

func writeFile(t testing.TB, dir, name, content string) string {
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func load(t *testing.T, path, typ string) (Dataset, error) {
	t.Helper()
	c := &Custom{Path: path, Type: typ}
	return c.Compose(context.Background(), &Env{Tokenizer: builtin(t, "o200k_base"), Seed: 1})
}

func TestSingleTurn(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "cat.png", "\x89PNG fake")
	p := writeFile(t, dir, "s.jsonl", `{"text": "hello", "output_length": 20, "extra": {"temperature": 0.5, "top_k": 3}}

{"texts": ["a", "b"], "image": "cat.png", "role": "user", "session_id": "s1", "timestamp": 100}
{"text": "again", "session_id": "s1", "timestamp": 250}
{"texts": [{"name": "query", "contents": ["q"]}], "audio": "wav,AAAA", "images": ["https://x/y.jpg"]}
`)
	ds, err := load(t, p, "")
	if err != nil {
		t.Fatal(err)
	}
	if ds.Len() != 3 || InfoOf(ds).Sampler != Sequential || !InfoOf(ds).Timestamps {
		t.Fatalf("Len %d info %+v", ds.Len(), InfoOf(ds))
	}
	t0 := ds.Conversation(0).Turns[0]
	if t0.FirstText() != "hello" || t0.MaxTokens != 20 {
		t.Errorf("turn 0: %+v", t0)
	}
	if b, _ := t0.ExtraBody.MarshalJSON(); string(b) != `{"temperature":0.5,"top_k":3}` {
		t.Errorf("extra %s", b)
	}
	s1 := ds.Conversation(1)
	if s1.ID != "s1" || len(s1.Turns) != 2 || !s1.Turns[1].ResetContext || s1.Turns[1].TimestampMs != 250 {
		t.Errorf("session s1: %+v", s1)
	}
	if img := s1.Turns[0].Images[0].Contents[0]; !strings.HasPrefix(img, "data:image/png;base64,") {
		t.Errorf("local image not inlined: %s", img)
	}
	t2 := ds.Conversation(2).Turns[0]
	if t2.Texts[0].Name != "query" || t2.Audios[0].Contents[0] != "wav,AAAA" || t2.Images[0].Contents[0] != "https://x/y.jpg" {
		t.Errorf("turn 2: %+v", t2)
	}
}

func TestMultiTurnSample(t *testing.T) {
	ds, err := load(t, "../../testdata/datasets/multi_turn_sample.jsonl", "")
	if err != nil {
		t.Fatal(err)
	}
	if ds.Len() != 5 {
		t.Fatalf("Len %d", ds.Len())
	}
	c := ds.Conversation(1)
	if c.ID != "coding-7" || len(c.Turns) != 4 || c.Turns[1].DelayMs != 3000 || !c.Turns[1].HasDelay || c.Turns[0].HasDelay || c.Turns[2].MaxTokens != 400 {
		t.Errorf("conversation: %+v", c)
	}
	if c.Turns[1].ResetContext {
		t.Error("multi_turn turns keep their history")
	}
}

func TestMooncakeSample(t *testing.T) {
	tok := builtin(t, "o200k_base")
	ds, err := (&Custom{Path: "../../testdata/datasets/mooncake_sample.jsonl"}).Compose(context.Background(), &Env{Tokenizer: tok, Seed: 9})
	if err != nil {
		t.Fatal(err)
	}
	if ds.Len() != 40 || !InfoOf(ds).Timestamps {
		t.Fatalf("Len %d info %+v", ds.Len(), InfoOf(ds))
	}
	// Rows 0 and 2 share hash ids 0,1,2,3,100,101: their first 6 blocks
	// (6×512 tokens) are the same text; each prompt has its exact length.
	a, c := ds.Conversation(0).Turns[0], ds.Conversation(2).Turns[0]
	for _, turn := range []Turn{a, c} {
		if got := tok.Count(turn.FirstText()); got != turn.InputTokens {
			t.Errorf("prompt %d tokens, want %d", got, turn.InputTokens)
		}
	}
	ia, ic := tok.Encode(a.FirstText()), tok.Encode(c.FirstText())
	shared := 0
	for shared < len(ia) && shared < len(ic) && ia[shared] == ic[shared] {
		shared++
	}
	if shared < 5*512 {
		t.Errorf("rows sharing 6 hash ids share only %d tokens", shared)
	}
	if a.MaxTokens != 16 || a.TimestampMs != 55 {
		t.Errorf("row 0: max %d ts %v", a.MaxTokens, a.TimestampMs)
	}
	for i := 0; i < ds.Len(); i++ {
		turn := ds.Conversation(i).Turns[0]
		if got := tok.Count(turn.FirstText()); got != turn.InputTokens {
			t.Errorf("row %d: %d tokens, want %d", i, got, turn.InputTokens)
		}
	}
	// Lazy prompts are the same text however often and in whatever order
	// they are read: read again here, and first thing in a second dataset
	// composed from the same file and seed.
	again, err := (&Custom{Path: "../../testdata/datasets/mooncake_sample.jsonl"}).Compose(context.Background(), &Env{Tokenizer: tok, Seed: 9})
	if err != nil {
		t.Fatal(err)
	}
	fresh := again.Conversation(3).Turns[0].FirstText()
	first, second := ds.Conversation(3).Turns[0].FirstText(), ds.Conversation(3).Turns[0].FirstText()
	if first != second || first != fresh {
		t.Error("lazy prompts are not deterministic")
	}
}

func TestMooncakeVariants(t *testing.T) {
	dir := t.TempDir()
	p := writeFile(t, dir, "t.jsonl", `{"session_id": "a", "timestamp": 0, "text_input": "hi there", "output_length": 5}
{"session_id": "b", "timestamp": 10, "messages": [{"role": "user", "content": "x"}], "tools": [{"type": "function"}]}
{"session_id": "a", "delay": 300, "input_length": 33}
{"timestamp": 20, "payload": {"model": "m", "prompt": "p"}}
`)
	ds, err := load(t, p, "")
	if err != nil {
		t.Fatal(err)
	}
	if ds.Len() != 3 {
		t.Fatalf("Len %d", ds.Len())
	}
	a := ds.Conversation(0)
	if a.ID != "a" || len(a.Turns) != 2 || a.Turns[0].FirstText() != "hi there" || a.Turns[1].DelayMs != 300 || a.Turns[1].InputTokens != 33 {
		t.Errorf("session a: %+v", a)
	}
	b := ds.Conversation(1).Turns[0]
	if m, ok := b.RawMessages[0].(*ordered.Map); !ok || m.Keys()[0] != "role" || b.Tools == nil {
		t.Errorf("messages: %+v", b)
	}
	if string(ds.Conversation(2).Turns[0].RawPayload) != `{"model":"m","prompt":"p"}` {
		t.Errorf("payload %s", ds.Conversation(2).Turns[0].RawPayload)
	}
}

func TestInputsJSON(t *testing.T) {
	dir := t.TempDir()
	p := writeFile(t, dir, "inputs.json", `{
  "data": [
    {"session_id": "x1", "payloads": [{"messages": [{"role": "user", "content": "hi"}], "model": "m"}, {"model": "m", "stream": true}]},
    {"session_id": "x2", "payloads": [{"prompt": "p"}]}
  ]
}`)
	ds, err := load(t, p, "")
	if err != nil {
		t.Fatal(err)
	}
	if ds.Len() != 2 || len(ds.Conversation(0).Turns) != 2 {
		t.Fatalf("Len %d", ds.Len())
	}
	if got := string(ds.Conversation(0).Turns[0].RawPayload); got != `{"messages":[{"role":"user","content":"hi"}],"model":"m"}` {
		t.Errorf("payload %s", got)
	}
}

func TestRandomPool(t *testing.T) {
	dir := t.TempDir()
	pool := filepath.Join(dir, "pool")
	os.Mkdir(pool, 0o755)
	writeFile(t, pool, "a_queries.jsonl", `{"texts": [{"name": "query", "contents": ["q1"]}]}
{"texts": [{"name": "query", "contents": ["q2"]}]}
`)
	writeFile(t, pool, "b_passages.jsonl", `{"texts": [{"name": "passages", "contents": ["p1", "p2"]}]}
`)
	ds, err := (&Custom{Path: pool, Entries: 7}).Compose(context.Background(), &Env{Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	if ds.Len() != 7 || InfoOf(ds).Sampler != Shuffle {
		t.Fatalf("Len %d", ds.Len())
	}
	turn := ds.Conversation(0).Turns[0]
	if len(turn.Texts) != 2 || turn.Texts[0].Name != "query" || turn.Texts[1].Name != "passages" {
		t.Errorf("merged turn %+v", turn.Texts)
	}
}

// TestBadLines: every kind of bad line is rejected with file:line and what
// was wrong.
func TestBadLines(t *testing.T) {
	cases := []struct {
		typ, line, want string
	}{
		{SingleTurn, `{"text": "a"`, "invalid JSON"},
		{SingleTurn, `["text"]`, "expected a JSON object"},
		{SingleTurn, `{"txt": "a"}`, `unknown field "txt"`},
		{SingleTurn, `{"text": 5}`, `field "text": expected a string`},
		{SingleTurn, `{"texts": "a", "text": "b"}`, `"text" and "texts": give one`},
		{SingleTurn, `{"texts": [1, 2]}`, `field "texts": expected a list`},
		{SingleTurn, `{"output_length": 3}`, "no content"},
		{SingleTurn, `{"text": "a", "output_length": "many"}`, `field "output_length": expected an integer`},
		{SingleTurn, `{"text": "a", "output_length": -1}`, `"output_length": must be >= 0`},
		{SingleTurn, `{"text": "a", "timestamp": -5}`, `"timestamp": must be >= 0`},
		{SingleTurn, `{"text": "a", "timestamp": 1, "delay": 2}`, `give one, not both`},
		{SingleTurn, `{"text": "a", "extra": [1]}`, `field "extra": expected a JSON object`},
		{SingleTurn, `{"text": "a", "session_id": {"x": 1}}`, `field "session_id"`},
		{SingleTurn, `{"image": "missing.png"}`, `field "image"[0]: not a URL`},
		{SingleTurn, `{"text": "a", "type": "multi_turn"}`, `field "type"`},
		{SingleTurn, `{"text": "a"} {"text": "b"}`, "trailing data"},
		{MultiTurn, `{"session_id": "s", "turns": []}`, `field "turns": needs at least one turn`},
		{MultiTurn, `{"session_id": "s", "turns": [{"text": "a"}, {"txt": "b"}]}`, `turns[1]: unknown field "txt"`},
		{MultiTurn, `{"session_id": "s", "turns": "a"}`, `field "turns": expected a list`},
		{MultiTurn, `{"turns": [{"text": "a", "session_id": "x"}]}`, `turns[0]: field "session_id" belongs on the conversation`},
		{MooncakeTrace, `{"timestamp": 1, "output_length": 3}`, "exactly one of input_length, text_input, messages, payload (got 0)"},
		{MooncakeTrace, `{"input_length": 10, "text_input": "a"}`, "(got 2)"},
		{MooncakeTrace, `{"input_length": 0}`, `"input_length": must be > 0`},
		{MooncakeTrace, `{"input_length": 4294967297}`, `"input_length": must be at most 2147483647 tokens`},
		{MooncakeTrace, `{"input_length": 5, "output_length": 4294967296}`, `"output_length": must be at most 2147483647 tokens`},
		{BailianTrace, `{"chat_id": 1, "timestamp": 0, "input_length": 2147483648}`, `"input_length": must be at most 2147483647 tokens`},
		{MooncakeTrace, `{"input_length": 600, "hash_ids": [1, 2, 3]}`, "cannot hold 3 hash_ids of 512-token blocks"},
		{MooncakeTrace, `{"text_input": "a", "hash_ids": [1]}`, `"hash_ids": needs input_length`},
		{MooncakeTrace, `{"input_length": 10, "hash_ids": ["a"]}`, `field "hash_ids": expected`},
		{MooncakeTrace, `{"messages": {"role": "user"}}`, `field "messages": expected a list`},
		{MooncakeTrace, `{"payload": [1]}`, `field "payload": expected a JSON object`},
		{MooncakeTrace, `{"text_input": "a", "tools": []}`, `"tools": only with messages`},
		{MooncakeTrace, `{"input_length": 5, "timestamp": "soon"}`, `field "timestamp": expected a number`},
		{MooncakeTrace, `{"input_length": 5, "delay": -1}`, `"delay": must be >= 0`},
		{MooncakeTrace, `{"input_length": 5, "vendor": 1}`, `unknown field "vendor"`},
		{RandomPool, `{"text": "a", "timestamp": 1}`, "not allowed in a random_pool"},
	}
	dir := t.TempDir()
	for i, c := range cases {
		name := fmt.Sprintf("bad%d.jsonl", i)
		p := writeFile(t, dir, name, `{"text": "ok", "session_id": "first"}`+"\n\n"+c.line+"\n")
		if c.typ == MultiTurn {
			p = writeFile(t, dir, name, `{"session_id": "ok", "turns": [{"text": "ok"}]}`+"\n\n"+c.line+"\n")
		}
		if c.typ == MooncakeTrace {
			p = writeFile(t, dir, name, `{"input_length": 5}`+"\n\n"+c.line+"\n")
		}
		if c.typ == RandomPool {
			p = writeFile(t, dir, name, `{"text": "ok"}`+"\n\n"+c.line+"\n")
		}
		if c.typ == BailianTrace {
			p = writeFile(t, dir, name, `{"chat_id": 0, "timestamp": 0, "input_length": 5}`+"\n\n"+c.line+"\n")
		}
		_, err := load(t, p, c.typ)
		if err == nil {
			t.Errorf("%s %s: accepted", c.typ, c.line)
			continue
		}
		if !strings.Contains(err.Error(), p+":3: ") || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s %s:\n got  %v\n want %s:3: ...%s...", c.typ, c.line, err, p, c.want)
		}
	}
	bad := []struct{ content, want string }{
		{`{"data": 3}`, `field "data": expected a list`},
		{`{"other": []}`, `missing field "data"`},
		{`{"data": [{"session_id": "a", "payloads": []}]}`, `data[0]: field "payloads": needs at least one`},
		{`{"data": [{"session_id": "a", "payloads": ["x"]}]}`, `data[0].payloads[0]: expected a JSON object`},
	}
	for i, c := range bad {
		p := writeFile(t, dir, fmt.Sprintf("inputs%d.json", i), c.content)
		if _, err := load(t, p, InputsJSON); err == nil || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("inputs_json %s: %v, want %q", c.content, err, c.want)
		}
	}
}

func TestDetectAndErrors(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct{ content, want string }{
		{`{"text": "a"}`, "single_turn"},
		{`{"session_id": "s", "turns": [{"text": "a"}]}`, "multi_turn"},
		{`{"timestamp": 1, "input_length": 3}`, "mooncake_trace"},
		{`{"data": [{"session_id": "s", "payloads": [{}]}]}`, "inputs_json"},
		{`{"type": "single_turn", "text": "a"}`, "single_turn"},
	} {
		p := writeFile(t, dir, "d.jsonl", c.content+"\n")
		s, err := SampleOf(p, false)
		if err != nil {
			t.Fatal(err)
		}
		got := s.TypeField
		for _, n := range detectOrder {
			if got == "" && builtinLoaders()[n].Detect(s) {
				got = n
			}
		}
		if got != c.want {
			t.Errorf("%s detected as %q, want %s", c.content, got, c.want)
		}
	}
	p := writeFile(t, dir, "u.jsonl", `{"foo": 1}`+"\n")
	if _, err := load(t, p, ""); err == nil || !strings.Contains(err.Error(), "give type=") {
		t.Errorf("undetectable: %v", err)
	}
	if _, err := load(t, filepath.Join(dir, "nope.jsonl"), ""); err == nil || !strings.Contains(err.Error(), "nope.jsonl") {
		t.Errorf("missing file: %v", err)
	}
	if _, err := load(t, p, "parquet"); err == nil || !strings.Contains(err.Error(), `unknown dataset type "parquet"`) {
		t.Errorf("unknown type: %v", err)
	}
	// A relative path is taken from the scenario directory.
	writeFile(t, dir, "rel.jsonl", `{"text": "a"}`+"\n")
	if _, err := (&Custom{Path: "rel.jsonl"}).Compose(context.Background(), &Env{BaseDir: dir}); err != nil {
		t.Errorf("relative path: %v", err)
	}
}

func TestFromRecords(t *testing.T) {
	ds, err := FromRecords([]any{
		ordered.FromPairs("text", "hello", "output_length", int64(5)),
		map[string]any{"text": "again", "session_id": "s"},
		map[string]any{"text": "more", "session_id": "s", "delay": 100},
	}, "")
	if err != nil {
		t.Fatal(err)
	}
	if ds.Len() != 2 || ds.Conversation(0).Turns[0].MaxTokens != 5 || len(ds.Conversation(1).Turns) != 2 {
		t.Errorf("records: %d", ds.Len())
	}
	ds, err = FromRecords([]any{map[string]any{"session_id": "m", "turns": []any{map[string]any{"text": "a"}, map[string]any{"text": "b", "delay": 10}}}}, "")
	if err != nil || len(ds.Conversation(0).Turns) != 2 {
		t.Fatalf("multi-turn records: %v", err)
	}
	for _, c := range []struct {
		recs []any
		want string
	}{
		{nil, "empty"},
		{[]any{"text"}, "records[0]: expected a dict"},
		{[]any{map[string]any{"text": "a"}, map[string]any{"txt": "b"}}, `records[1]: unknown field "txt"`},
		{[]any{map[string]any{"text": "a"}, map[string]any{"turns": []any{}}}, "records[1]: mixes"},
		{[]any{map[string]any{"turns": []any{map[string]any{"text": 3}}}}, `records[0].turns[0]: field "text"`},
	} {
		if _, err := FromRecords(c.recs, ""); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v, want %q", c.recs, err, c.want)
		}
	}
}

func TestSamplers(t *testing.T) {
	seq, _ := NewSampler(Sequential, 3, 1)
	var got []int
	for i := 0; i < 7; i++ {
		got = append(got, seq.Next())
	}
	if fmt.Sprint(got) != "[0 1 2 0 1 2 0]" {
		t.Errorf("sequential %v", got)
	}
	sh, _ := Strategy(Shuffle).NewSampler(50, 9)
	for pass := 0; pass < 3; pass++ {
		seen := map[int]bool{}
		for i := 0; i < 50; i++ {
			seen[sh.Next()] = true
		}
		if len(seen) != 50 {
			t.Errorf("shuffle pass %d covered %d of 50", pass, len(seen))
		}
	}
	a, _ := NewSampler(Random, 1000, 5)
	b, _ := NewSampler(Random, 1000, 5)
	c, _ := NewSampler(Random, 1000, 6)
	same, diff := true, false
	for i := 0; i < 100; i++ {
		x, y, z := a.Next(), b.Next(), c.Next()
		same = same && x == y
		diff = diff || x != z
	}
	if !same || !diff {
		t.Errorf("random sampler not seeded (same=%v diff=%v)", same, diff)
	}
	if _, err := NewSampler("roulette", 3, 1); err == nil {
		t.Error("unknown strategy accepted")
	}
	if _, err := NewSampler(Random, 0, 1); err == nil {
		t.Error("empty dataset accepted")
	}
}

func TestMemoryStoreShards(t *testing.T) {
	convs := make([]Conversation, 10)
	for i := range convs {
		convs[i].ID = fmt.Sprint(i)
	}
	cs, err := MemoryStore{}.Store(NewSet(convs, Info{Sampler: Sequential}))
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for i := 0; i < 3; i++ {
		sh, err := cs.Shard(i, 3)
		if err != nil {
			t.Fatal(err)
		}
		for k := 0; k < sh.Len(); k++ {
			ids = append(ids, sh.Conversation(k).ID)
		}
	}
	if strings.Join(ids, ",") != "0,1,2,3,4,5,6,7,8,9" {
		t.Errorf("shards cover %v", ids)
	}
	if _, err := cs.Shard(3, 3); err == nil {
		t.Error("shard 3 of 3 accepted")
	}
}

// BenchmarkLoadMillionLines loads a 1,000,000-line single_turn file and
// reports the heap kept per entry (the file is streamed, never held whole).
func BenchmarkLoadMillionLines(b *testing.B) {
	dir := b.TempDir()
	p := filepath.Join(dir, "big.jsonl")
	f, _ := os.Create(p)
	line, _ := json.Marshal(map[string]any{"text": "What is the capital of France? Answer in one word.", "output_length": 16})
	for i := 0; i < 1_000_000; i++ {
		f.Write(line)
		f.Write([]byte("\n"))
	}
	f.Close()
	st, _ := os.Stat(p)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		ds, err := (&Custom{Path: p, Type: SingleTurn}).Compose(context.Background(), &Env{})
		if err != nil {
			b.Fatal(err)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/float64(ds.Len()), "heap-B/entry")
		b.ReportMetric(float64(st.Size())/float64(ds.Len()), "file-B/entry")
		runtime.KeepAlive(ds)
	}
}

// BenchmarkLoadMillionTraceRows is the same for a mooncake trace with
// hash ids, whose prompts are built on demand.
func BenchmarkLoadMillionTraceRows(b *testing.B) {
	dir := b.TempDir()
	p := filepath.Join(dir, "trace.jsonl")
	f, _ := os.Create(p)
	for i := 0; i < 1_000_000; i++ {
		fmt.Fprintf(f, `{"timestamp": %d, "input_length": %d, "output_length": 64, "hash_ids": [%d, %d, %d, %d]}`+"\n", i*10, 3*512+100, i%50, 1000+i%500, 5000+i, 2000000+i)
	}
	f.Close()
	st, _ := os.Stat(p)
	tok := builtin(b, "o200k_base")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		ds, err := (&Custom{Path: p}).Compose(context.Background(), &Env{Tokenizer: tok})
		if err != nil {
			b.Fatal(err)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/float64(ds.Len()), "heap-B/entry")
		b.ReportMetric(float64(st.Size())/float64(ds.Len()), "file-B/entry")
		runtime.KeepAlive(ds)
	}
}
