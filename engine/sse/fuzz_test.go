package sse

import (
	"bytes"
	"testing"
	"unicode/utf8"
)

// FuzzReader feeds arbitrary bytes in arbitrary reads. The Reader must not
// panic, must emit valid UTF-8, must search a bounded number of bytes per
// byte fed (linear reassembly), must hold nothing after Close and — for
// streams without "\r", whose delimiter cannot depend on what one read
// holds (docs/wire.md §8) — must emit the same messages however the stream
// is cut.
func FuzzReader(f *testing.F) {
	f.Add([]byte("data: {\"a\":1}\n\ndata: [DONE]\n\n"), []byte{1, 5, 2})
	f.Add([]byte("event: error\ndata: x\n\n: keep-alive\n\nda"), []byte{3})
	f.Add([]byte("data: a\r\n\r\ndata: b\n\n"), []byte{0, 7})
	f.Add([]byte("data: \xff\xfe\n\ndata:\ndata: y\n\n\n\n"), []byte{1})
	f.Add([]byte(":c\nevent:\nid: 1\nretry: 5\nfoo\ndata\n\n"), []byte{2, 2, 2})
	f.Fuzz(func(t *testing.T, stream, cuts []byte) {
		whole := feedChunks(t, stream, nil)
		split := feedChunks(t, stream, cuts)
		if bytes.IndexByte(stream, '\r') >= 0 {
			return
		}
		if len(whole) != len(split) {
			t.Fatalf("%d messages in one read, %d when cut by %v", len(whole), len(split), cuts)
		}
		for i := range whole {
			w, s := whole[i], split[i]
			w.ts, s.ts = 0, 0
			if w != s {
				t.Fatalf("message %d: %+v in one read, %+v when cut by %v", i, w, s, cuts)
			}
		}
	})
}

// feedChunks feeds stream in reads whose lengths are the bytes of cuts
// (cycled; 0 means 1), or in one read when cuts is empty.
func feedChunks(t *testing.T, stream, cuts []byte) []got {
	var r Reader
	var out []got
	fn := func(m *Message) {
		for _, b := range [][]byte{m.Data, m.Event, m.Comment} {
			if !utf8.Valid(b) {
				t.Fatalf("invalid UTF-8 emitted: %q", b)
			}
		}
		out = append(out, got{string(m.Event), string(m.Data), string(m.Comment), m.HasData, m.PerfNs})
	}
	reads := 0
	for rest := stream; len(rest) > 0; reads++ {
		n := len(rest)
		if len(cuts) > 0 {
			n = min(n, max(1, int(cuts[reads%len(cuts)])))
		}
		r.Feed(rest[:n], int64(reads), fn)
		rest = rest[n:]
	}
	if limit := int64(8*(len(stream)+reads) + 64); r.searched > limit {
		t.Fatalf("searched %d bytes for %d fed in %d reads (limit %d)", r.searched, len(stream), reads, limit)
	}
	r.Close(int64(reads), fn)
	if r.Buffered() != 0 {
		t.Fatalf("%d bytes held after Close", r.Buffered())
	}
	return out
}
