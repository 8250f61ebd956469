package dataset

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// detected loads path without a type and checks the format it was read as.
func detected(t *testing.T, path string) Dataset {
	t.Helper()
	s, err := SampleOf(path, strings.HasSuffix(path, "_dir"))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range detectOrder {
		if builtinLoaders()[name].Detect(s) {
			t.Logf("%s detected as %s", path, name)
			break
		}
	}
	ds, err := load(t, path, "")
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

func TestBailianTrace(t *testing.T) {
	ds := detected(t, "testdata/bailian_sample.jsonl")
	if ds.Len() != 3 || !InfoOf(ds).Timestamps || InfoOf(ds).Sampler != Sequential {
		t.Fatalf("Len %d info %+v", ds.Len(), InfoOf(ds))
	}
	// chat 11 → 13 → 14 is one session in turn order (the file lists 15
	// between 13 and 14); each later turn is self-contained.
	s := ds.Conversation(0)
	if s.ID != "11" || len(s.Turns) != 3 {
		t.Fatalf("session 11: %d turns, id %s", len(s.Turns), s.ID)
	}
	wantTS := []float64{500, 2250, 4000}
	for k, turn := range s.Turns {
		if turn.TimestampMs != wantTS[k] || !turn.HasTimestamp || turn.ResetContext != (k > 0) {
			t.Errorf("turn %d: ts %v reset %v", k, turn.TimestampMs, turn.ResetContext)
		}
	}
	if s.Turns[2].InputTokens != 90 || s.Turns[2].MaxTokens != 16 {
		t.Errorf("turn 3: %d tokens in, %d out", s.Turns[2].InputTokens, s.Turns[2].MaxTokens)
	}
	if ds.Conversation(1).ID != "12" || ds.Conversation(2).ID != "15" {
		t.Errorf("sessions %s, %s", ds.Conversation(1).ID, ds.Conversation(2).ID)
	}
	// 16-token blocks: turns 1 and 2 of session 11 share hash ids 1, 2, 3,
	// so their prompts share those three blocks exactly.
	tok := builtin(t, "o200k_base")
	a, b := tok.Encode(s.Turns[0].FirstText()), tok.Encode(s.Turns[1].FirstText())
	if got := sharedPrefix(a, b); got < 3*16 {
		t.Errorf("turns sharing 3 hash ids share %d tokens, want >= 48", got)
	}
}

func sharedPrefix(a, b []int) int {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	return n
}

// Mooncake hash_ids: the same id is the same block of text wherever it
// appears, so any two rows share exactly as many leading tokens as the
// trace says they share leading blocks — what a prefix cache sees.
func TestHashIDsPrefixSharing(t *testing.T) {
	tok := builtin(t, "o200k_base")
	rows, format, err := ReadTrace(context.Background(), "../../testdata/datasets/mooncake_sample.jsonl", "")
	if err != nil || format != MooncakeTrace {
		t.Fatalf("ReadTrace: %v, %s", err, format)
	}
	ds, err := load(t, "../../testdata/datasets/mooncake_sample.jsonl", "")
	if err != nil {
		t.Fatal(err)
	}
	texts := make([]string, ds.Len())
	toks := make([][]int, ds.Len())
	for i := range texts {
		texts[i] = ds.Conversation(i).Turns[0].FirstText()
		toks[i] = tok.Encode(texts[i])
	}
	pairs := 0
	for i := range rows {
		for j := i + 1; j < len(rows); j++ {
			k := 0
			for k < len(rows[i].HashIDs) && k < len(rows[j].HashIDs) && rows[i].HashIDs[k] == rows[j].HashIDs[k] {
				k++
			}
			full := min(len(rows[i].HashIDs), len(rows[j].HashIDs))
			shared := sharedPrefix(toks[i], toks[j])
			switch {
			case k < full && shared < k*512:
				t.Errorf("rows %d and %d share %d hash ids but %d tokens (want >= %d)", i, j, k, shared, k*512)
			case k == 0 && shared > 50:
				t.Errorf("rows %d and %d share no hash id but %d tokens", i, j, shared)
			}
			if k > 0 {
				pairs++
			}
		}
	}
	if pairs == 0 {
		t.Fatal("the sample shares no prefix")
	}
}

func TestBurstGPTTrace(t *testing.T) {
	ds := detected(t, "testdata/burstgpt_sample.csv")
	if ds.Len() != 3 || !InfoOf(ds).Timestamps {
		t.Fatalf("Len %d info %+v (the failed rows, with 0 tokens, are skipped)", ds.Len(), InfoOf(ds))
	}
	want := []struct {
		ts      float64
		in, out int
	}{{5000, 472, 18}, {45000, 1087, 284}, {135500, 1360, 211}}
	tok := builtin(t, "o200k_base")
	for i, w := range want {
		turn := ds.Conversation(i).Turns[0]
		if turn.TimestampMs != w.ts || turn.InputTokens != w.in || turn.MaxTokens != w.out || tok.Count(turn.FirstText()) != w.in {
			t.Errorf("row %d: ts %v, %d tokens in (text %d), %d out", i, turn.TimestampMs, turn.InputTokens, tok.Count(turn.FirstText()), turn.MaxTokens)
		}
	}
}

func TestShareGPT(t *testing.T) {
	ds := detected(t, "testdata/sharegpt_sample.json")
	if ds.Len() != 3 {
		t.Fatalf("Len %d, want 3 (greeting-2's 1-token prompt is filtered out)", ds.Len())
	}
	c := ds.Conversation(0)
	if c.ID != "garden-1" || len(c.Turns) != 2 || c.Turns[1].FirstText() != "How deep should the pea seeds go?" || c.Turns[1].ResetContext {
		t.Fatalf("garden-1: %+v", c)
	}
	tok := builtin(t, "o200k_base")
	answer := "Sow peas about two to five centimetres deep and a few centimetres apart, then water them in well."
	if c.Turns[1].MaxTokens != tok.Count(answer) {
		t.Errorf("max tokens %d, want the recorded answer's %d", c.Turns[1].MaxTokens, tok.Count(answer))
	}
	if ds.Conversation(1).ID != "bread-3" || len(ds.Conversation(1).Turns) != 1 {
		t.Errorf("bread-3 (a system message and one pair): %+v", ds.Conversation(1))
	}
}

func TestRawPayload(t *testing.T) {
	ds := detected(t, "testdata/raw_payload_sample.jsonl")
	if ds.Len() != 3 {
		t.Fatalf("Len %d", ds.Len())
	}
	second := ds.Conversation(1).Turns[0]
	var body map[string]any
	if err := json.Unmarshal(second.RawPayload, &body); err != nil || body["temperature"] != 0.0 || second.MaxTokens != 8 {
		t.Errorf("body %s, max tokens %d", second.RawPayload, second.MaxTokens)
	}
	dir := detected(t, "testdata/raw_payload_dir")
	if dir.Len() != 2 || dir.Conversation(0).ID != "a_session" || len(dir.Conversation(0).Turns) != 2 || !dir.Conversation(0).Turns[1].ResetContext {
		t.Fatalf("directory: %d conversations, first %+v", dir.Len(), dir.Conversation(0))
	}
}

func TestNewTraceErrors(t *testing.T) {
	dir := t.TempDir()
	cases := []struct{ typ, name, content, want string }{
		{BailianTrace, "b.jsonl", `{"chat_id": 1, "timestamp": 1, "input_length": 10, "turn": 1, "hash_ids": [1, 2]}` + "\n", "b.jsonl:1: field \"input_length\": 10 tokens cannot hold 2 hash_ids of 16-token blocks"},
		{BailianTrace, "b2.jsonl", `{"chat_id": 1, "input_length": 10}` + "\n", `b2.jsonl:1: missing field "timestamp"`},
		{BailianTrace, "b3.jsonl", `{"chat_id": 1, "timestamp": 1, "input_length": 10, "colour": "red"}` + "\n", `unknown field "colour"`},
		{BurstGPTTrace, "g.csv", "Timestamp,Request tokens\n1,2\n", `g.csv:1: missing column "Response tokens"`},
		{BurstGPTTrace, "g2.csv", "Timestamp,Request tokens,Response tokens\n1,2,3\nsoon,2,3\n", `g2.csv:3: column Timestamp: want seconds >= 0, got "soon"`},
		{ShareGPT, "s.json", `{"conversations": []}`, "expected a JSON list of conversations"},
		{ShareGPT, "s2.json", `[{"conversations": [{"from": "human", "value": "hi"}, {"from": "gpt", "value": "yo"}]}]`, "none of the 1 conversations"},
		{RawPayload, "r.jsonl", "{\"messages\": []}\n[1]\n", "r.jsonl:2: expected a JSON object"},
	}
	for _, c := range cases {
		p := writeFile(t, dir, c.name, c.content)
		if _, err := load(t, p, c.typ); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", c.name, err, c.want)
		}
	}
	// A bailian row's "type" is its request type, not a dataset format.
	p := writeFile(t, dir, "typed.jsonl", `{"chat_id": 1, "parent_chat_id": -1, "timestamp": 1, "input_length": 10, "type": "text", "turn": 1}`+"\n")
	if _, err := load(t, p, ""); err != nil {
		t.Errorf("a bailian row with type text: %v", err)
	}
	if _, _, err := ReadTrace(context.Background(), filepath.Join("testdata", "sharegpt_sample.json"), ""); err == nil {
		t.Error("ReadTrace reads a ShareGPT file as a trace")
	}
}

// dataset.custom(synthesis=...) rescales a token-count trace as it loads;
// other formats refuse it.
func TestCustomSynthesis(t *testing.T) {
	env := &Env{Tokenizer: builtin(t, "o200k_base"), Seed: 3}
	syn := Synthesis{Speedup: 4, PrefixLen: 1, PrefixRoots: 1, PromptLen: 1, OutputLen: 2, MaxISL: 4000}
	ds, err := (&Custom{Path: "../../testdata/datasets/mooncake_sample.jsonl", Synthesis: &syn}).Compose(context.Background(), env)
	if err != nil {
		t.Fatal(err)
	}
	// 7 of the 40 rows are longer than 4000 tokens.
	if ds.Len() != 33 {
		t.Fatalf("Len %d, want 33", ds.Len())
	}
	first := ds.Conversation(0).Turns[0]
	if first.TimestampMs != 55.0/4 || first.MaxTokens != 32 || first.InputTokens != 2913 {
		t.Errorf("row 0: ts %v, max tokens %d, ISL %d", first.TimestampMs, first.MaxTokens, first.InputTokens)
	}
	_, err = (&Custom{Path: "../../testdata/datasets/multi_turn_sample.jsonl", Synthesis: &syn}).Compose(context.Background(), env)
	if err == nil || !strings.Contains(err.Error(), "synthesis applies to token-count traces") {
		t.Errorf("synthesis of a multi_turn file: %v", err)
	}
}
