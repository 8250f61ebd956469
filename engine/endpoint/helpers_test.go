package endpoint

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/loadstar/loadstar/engine/dataset"
	"github.com/loadstar/loadstar/engine/plugin"
	"github.com/loadstar/loadstar/engine/record"
	"github.com/loadstar/loadstar/engine/sse"
)

// newEndpoint builds the built-in endpoint registered as name.
func newEndpoint(t testing.TB, name string, args plugin.Args) Endpoint {
	t.Helper()
	for _, b := range Builtins() {
		if b.Name == name {
			v, err := b.ClassOf().Build("endpoint."+name, args)
			if err != nil {
				t.Fatalf("endpoint.%s(%v): %v", name, args, err)
			}
			return v.(Endpoint)
		}
	}
	t.Fatalf("no endpoint %q", name)
	return nil
}

// feedSSE parses an SSE body delivered in reads of chunk bytes (0 = one
// read); read i is stamped 1000*(i+1).
func feedSSE(p Parser, body []byte, chunk int) *record.Record {
	rec := record.New()
	var r sse.Reader
	fn := func(m *sse.Message) { p.Message(m, rec) }
	if chunk <= 0 {
		chunk = len(body)
	}
	var ts int64
	for len(body) > 0 {
		n := min(chunk, len(body))
		ts += 1000
		r.Feed(body[:n], ts, fn)
		body = body[n:]
	}
	r.Close(ts+1000, fn)
	return rec
}

// events renders the parsed responses compactly for comparison:
// "text:D", "reasoning:think|out", "tool:fn{...}", "usage", "embeddings:2".
func events(rec *record.Record) []string {
	var out []string
	for i := range rec.Responses {
		r := &rec.Responses[i]
		switch r.Kind {
		case record.KindText:
			out = append(out, "text:"+string(rec.OutputText(r)))
		case record.KindReasoning:
			out = append(out, "reasoning:"+string(rec.ReasoningText(r))+"|"+string(rec.OutputText(r)))
		case record.KindToolCall:
			out = append(out, "tool:"+string(rec.OutputText(r)))
		case record.KindPlaceholder:
			out = append(out, "placeholder")
		case record.KindUsage:
			out = append(out, "usage")
		case record.KindEmbeddings:
			out = append(out, fmt.Sprintf("embeddings:%d", r.Items))
		case record.KindRankings:
			out = append(out, fmt.Sprintf("rankings:%d", r.Items))
		case record.KindImage:
			out = append(out, fmt.Sprintf("images:%d", r.Items))
		default:
			out = append(out, fmt.Sprintf("kind%d", r.Kind))
		}
	}
	return out
}

func eq(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func checkEvents(t *testing.T, rec *record.Record, want ...string) {
	t.Helper()
	if got := events(rec); !eq(got, want) {
		t.Errorf("responses:\n got %q\nwant %q", got, want)
	}
}

func checkNoError(t *testing.T, rec *record.Record) {
	t.Helper()
	if rec.Error != nil {
		t.Errorf("unexpected error %+v", *rec.Error)
	}
}

func checkError(t *testing.T, rec *record.Record, code int, typ, msg string) {
	t.Helper()
	if rec.Error == nil {
		t.Fatalf("no error; want %d %s %q", code, typ, msg)
	}
	if e := *rec.Error; e.Code != code || e.Type != typ || e.Message != msg {
		t.Errorf("error = %d %q %q; want %d %q %q", e.Code, e.Type, e.Message, code, typ, msg)
	}
}

// usage builds a record.Usage from prompt, completion, total, reasoning,
// cached, cache-write and first-chunk counts (-1 = absent).
func usage(p, c, tot, reas, cached, write, first int64) record.Usage {
	return record.Usage{PromptTokens: p, CompletionTokens: c, TotalTokens: tot, ReasoningTokens: reas,
		CachedTokens: cached, CacheWriteTokens: write, FirstContentChunkTokens: first}
}

func fixture(t *testing.T, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "fixtures", rel))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// sseBody builds an SSE body from data payloads (and "event: x\ndata: y"
// raw frames when a payload starts with "event:" or ":").
func sseBody(frames ...string) []byte {
	var b strings.Builder
	for _, f := range frames {
		if strings.HasPrefix(f, "event:") || strings.HasPrefix(f, ":") {
			b.WriteString(f)
		} else {
			b.WriteString("data: " + f)
		}
		b.WriteString("\n\n")
	}
	return []byte(b.String())
}

// textTurn returns a user turn with the given texts (one unnamed group).
func textTurn(texts ...string) dataset.Turn {
	t := dataset.NewTurn()
	t.Texts = []dataset.Named{{Contents: texts}}
	return t
}
