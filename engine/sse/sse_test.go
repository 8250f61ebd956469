package sse

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

type got struct {
	event, data, comment string
	hasData              bool
	ts                   int64
}

func collect(r *Reader, chunks []string, ts []int64) []got {
	var out []got
	fn := func(m *Message) {
		out = append(out, got{string(m.Event), string(m.Data), string(m.Comment), m.HasData, m.PerfNs})
	}
	for i, c := range chunks {
		r.Feed([]byte(c), ts[i], fn)
	}
	r.Close(999, fn)
	return out
}

func TestSplitAcrossReadsStampsCompletingRead(t *testing.T) {
	var r Reader
	out := collect(&r, []string{"data: {\"a\":1}\n", "\ndata: x\n\nda", "ta: y\n\n"}, []int64{10, 20, 30})
	want := []got{{"", `{"a":1}`, "", true, 20}, {"", "x", "", true, 20}, {"", "y", "", true, 30}}
	if len(out) != len(want) {
		t.Fatalf("got %d messages %+v", len(out), out)
	}
	for i := range want {
		if out[i] != want[i] {
			t.Errorf("msg %d: got %+v want %+v", i, out[i], want[i])
		}
	}
}

func TestCRLFOnlyWhenNoLFLF(t *testing.T) {
	var r Reader
	out := collect(&r, []string{"event: error\r\n: boom\r\ndata: 1\r\n\r\ndata: 2\r\n\r\n"}, []int64{5})
	if len(out) != 2 || out[0].event != "error" || out[0].comment != "boom" || out[0].data != "1" || out[1].data != "2" {
		t.Fatalf("got %+v", out)
	}
}

// AIPerf's reader matches the event field's name in any case (the data
// field's only in lower case: see TestFieldRules).
func TestEventNameAnyCase(t *testing.T) {
	var r Reader
	out := collect(&r, []string{"Event: error\ndata: 1\n\nEVENT: ping\n\n"}, []int64{1})
	if len(out) != 2 || out[0].event != "error" || out[0].data != "1" || out[1].event != "ping" {
		t.Fatalf("got %+v", out)
	}
}

func TestFieldRules(t *testing.T) {
	var r Reader
	// Multi data lines join with \n; value keeps colons; case-sensitive names;
	// empty data ignored; no-colon line is a field with null value.
	out := collect(&r, []string{"data: a:b\ndata:\ndata:   c  \nData: nope\nbare\n\n"}, []int64{1})
	if len(out) != 1 || out[0].data != "a:b\nc" {
		t.Fatalf("got %+v", out)
	}
	out = collect(&r, []string{"Data: only\n\n"}, []int64{1})
	if len(out) != 1 || out[0].hasData {
		t.Fatalf("Data: must not be data, got %+v", out)
	}
}

func TestContinuationRepair(t *testing.T) {
	var r Reader
	out := collect(&r, []string{"data: {\"content\":\"line1\nline2\"}\n\n"}, []int64{1})
	if len(out) != 1 || out[0].data != `{"content":"line1\nline2"}` {
		t.Fatalf("got %+v", out)
	}
}

func TestLeftoverAtEOFAndBlankRuns(t *testing.T) {
	var r Reader
	out := collect(&r, []string{"\n\n\n\ndata: [DONE]"}, []int64{1})
	if len(out) != 1 || out[0].data != "[DONE]" || out[0].ts != 999 {
		t.Fatalf("got %+v", out)
	}
}

func TestInvalidUTF8Replaced(t *testing.T) {
	var r Reader
	out := collect(&r, []string{"data: a\xffb\n\n"}, []int64{1})
	if len(out) != 1 || out[0].data != "a\uFFFDb" {
		t.Fatalf("got %q", out[0].data)
	}
}

// fixtureMessages is the number of SSE messages in each real-server capture
// of testdata/fixtures (see the README there), [DONE] included.
var fixtureMessages = map[string]int{
	"llamacpp-chat-stream.txt":          10,
	"llamacpp-chat-stream-no-usage.txt": 8,
	"llamacpp-completions-stream.txt":   8,
	"ollama-chat-stream.txt":            15,
}

// TestFixturesByteAtATime reads every capture whole and one byte per read:
// both give the same messages, as many as the server sent.
func TestFixturesByteAtATime(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "fixtures", "*.txt"))
	if err != nil || len(files) != len(fixtureMessages) {
		t.Fatalf("testdata/fixtures holds %d captures, want %d (%v)", len(files), len(fixtureMessages), err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		want, ok := fixtureMessages[filepath.Base(f)]
		if !ok {
			t.Fatalf("%s has no expected message count", f)
		}
		var whole, bytewise Reader
		a := collect(&whole, []string{string(b)}, []int64{1})
		chunks := strings.Split(string(b), "")
		ts := make([]int64, len(chunks))
		c := collect(&bytewise, chunks, ts)
		if len(a) != want || len(c) != want {
			t.Fatalf("%s: %d messages whole and %d byte-wise, want %d", f, len(a), len(c), want)
		}
		for i := range a {
			if a[i].data != c[i].data {
				t.Fatalf("%s msg %d differs", f, i)
			}
		}
		if a[len(a)-1].data != "[DONE]" {
			t.Errorf("%s: last message %q, want [DONE]", f, a[len(a)-1].data)
		}
	}
}

func BenchmarkFeedChatChunk(b *testing.B) {
	chunk := []byte(`data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":" hello"},"finish_reason":null}]}` + "\n\n")
	var r Reader
	n := 0
	fn := func(m *Message) { n += len(m.Data) }
	b.ReportAllocs()
	b.SetBytes(int64(len(chunk)))
	for i := 0; i < b.N; i++ {
		r.Feed(chunk, int64(i), fn)
	}
}

// A message that arrives in many small reads is searched for its delimiter
// a bounded number of times per byte: reassembly is linear whatever the
// chunking (a 512 KB event in 1-byte reads used to rescan the whole buffer
// on every read for "\r\n\r\n", 15.9 s of CPU).
func TestFeedLinearInSmallReads(t *testing.T) {
	for _, delim := range []string{"\n\n", "\r\n\r\n"} {
		payload := `data: {"choices":[{"delta":{"content":"` + strings.Repeat("x", 64<<10) + `"}}]}` + delim
		var r Reader
		var got int
		for i := 0; i < len(payload); i++ {
			r.Feed([]byte{payload[i]}, int64(i), func(m *Message) {
				got++
				if m.PerfNs != int64(len(payload)-1) {
					t.Errorf("message stamped %d, want the last read %d", m.PerfNs, len(payload)-1)
				}
			})
		}
		if got != 1 {
			t.Fatalf("%q: %d messages, want 1", delim, got)
		}
		if limit := int64(8 * len(payload)); r.searched > limit {
			t.Errorf("%q: searched %d bytes for %d fed (limit %d): reassembly is not linear", delim, r.searched, len(payload), limit)
		}
	}
}

// Many CRLF-delimited messages in one read: after the first search finds no
// "\n\n", the rest of the read is not searched for it again.
func TestFeedLinearManyCRLFMessages(t *testing.T) {
	msg := "data: {\"a\":1}\r\n\r\n"
	payload := strings.Repeat(msg, 20000)
	var r Reader
	n := 0
	r.Feed([]byte(payload), 1, func(*Message) { n++ })
	if n != 20000 {
		t.Fatalf("%d messages, want 20000", n)
	}
	if limit := int64(4 * len(payload)); r.searched > limit {
		t.Errorf("searched %d bytes for %d fed (limit %d)", r.searched, len(payload), limit)
	}
}

func BenchmarkFeedOneByteReads(b *testing.B) {
	payload := []byte(`data: {"choices":[{"delta":{"content":"` + strings.Repeat("x", 512<<10) + `"}}]}` + "\n\n")
	b.SetBytes(int64(len(payload)))
	var r Reader
	for b.Loop() {
		for i := range payload {
			r.Feed(payload[i:i+1], 1, func(*Message) {})
		}
	}
}
