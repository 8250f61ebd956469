package transport

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/loadstar/loadstar/engine/record"
)

// headVocab are header names and values the head checks treat specially:
// Host, the framing headers, control characters, tabs, non-token names.
var headVocab = []string{"User-Agent", "X-Request-ID", "host", "HOST", "Host", "Content-Length", "connection",
	"Keep-Alive", "KEEP-ALIVE", "Cönnection", "TE", "te", "Upgrade", "Transfer-Encoding", "Accept-Encoding",
	"X-Tenant", "Content-Type", "application/json", "loadstar", "v\tv", "bad\x7fvalue", "a\r\nb", "bad name",
	"", "x:y", "0123456789abcdef0123456789abcdef\x1f", "0123456789abcdef\t0123456789abcdef", "é ünicode value"}

// FuzzLayeredHead compares the one-pass head of Verbatim requests
// (appendLayeredHead, with the connection's memory of checked headers)
// with the layering one (appendLayeringHead): same bytes, same errors,
// over sequences of up to four requests whose headers reuse the same
// strings, so that the memory's shortcuts are taken.
func FuzzLayeredHead(f *testing.F) {
	f.Add("X-A|1|x-b|\x01", []byte{3, 0, 16, 15, 17, 2, 18, 4, 2, 0, 1, 15, 19}, uint8(0), "")
	f.Add("Host|h|X-Session|s", []byte{2, 28, 29, 30, 31, 3, 28, 29, 30, 31, 5, 5}, uint8(0xff), "text/plain")
	f.Add("ok|v", []byte{4, 0, 1, 1, 2, 2, 3, 15, 21, 4, 0, 1, 1, 2, 2, 3, 15, 19}, uint8(0x0a), "sk\n")
	f.Fuzz(func(t *testing.T, words string, picks []byte, flags uint8, field string) {
		cl := newClient(t, func(c *Config) { c.UserAgent = "" }, 1)
		if cl.verbatimEdits {
			t.Fatal("the default client edits verbatim lists")
		}
		tg, err := parseTarget("http://127.0.0.1:8000/v1/chat/completions")
		if err != nil {
			t.Fatal(err)
		}
		pool := append(append([]string(nil), headVocab...), strings.Split(words, "|")...)
		methods := []string{"POST", "GET", "PU T", "PATCH"}
		var checked checkedHeaders
		for r := 0; len(picks) > 0 && r < 4; r++ {
			n := int(picks[0]) % 8
			picks = picks[1:]
			req := &Request{Verbatim: true, Stream: flags&1 != 0}
			for ; n > 0 && len(picks) >= 2; n-- {
				req.Headers = append(req.Headers, [2]string{pool[int(picks[0])%len(pool)], pool[int(picks[1])%len(pool)]})
				picks = picks[2:]
			}
			if flags&2 != 0 {
				req.Body = []byte("{}")
			}
			switch flags >> 2 & 3 {
			case 1:
				req.APIKey = field
			case 2:
				req.ContentType = field
			}
			method := methods[int(flags>>4+uint8(r))%len(methods)]
			want, werr := cl.appendLayeringHead(nil, tg, req, method, "rid", "sid")
			got, gerr := cl.appendLayeredHead(nil, tg, req, method, &checked)
			if fmt.Sprint(gerr) != fmt.Sprint(werr) {
				t.Fatalf("request %d %q: error %v, layering %v", r, req.Headers, gerr, werr)
			}
			if werr == nil && string(got) != string(want) {
				t.Fatalf("request %d %q:\n%q\nlayering:\n%q", r, req.Headers, got, want)
			}
		}
	})
}

// TestLayeredHeadChecksWhatIsNew: the connection's memory skips only the
// very strings it checked at the same position; a new value, a new name or
// the same bytes in a new string are checked, and a failed request leaves
// the memory as it was.
func TestLayeredHeadChecksWhatIsNew(t *testing.T) {
	cl := newClient(t, func(c *Config) { c.UserAgent = "" }, 1)
	tg, err := parseTarget("http://127.0.0.1:8000/v1")
	if err != nil {
		t.Fatal(err)
	}
	name, value := "X-A", "a"
	var checked checkedHeaders
	send := func(h ...[2]string) error {
		_, err := cl.appendLayeredHead(nil, tg, &Request{Verbatim: true, Headers: h}, "POST", &checked)
		return err
	}
	if err := send([2]string{name, value}, [2]string{"X-B", "b"}); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		h    [][2]string
		want string
	}{
		{[][2]string{{name, "a\r\nX-Evil: 1"}}, "header X-A: value contains control character '\\r' at byte 1"},
		{[][2]string{{name, value}, {"X-B", "\x7f"}}, "header X-B: value contains control character '\\x7f' at byte 0"},
		{[][2]string{{name, value}, {"Content-Length", "1"}}, "header Content-Length is set by the transport and cannot be given"},
		{[][2]string{{name, value}, {"X B", "b"}}, `header name "X B": character ' ' is not allowed`},
		{[][2]string{{strings.Clone("X:A"), value}}, `header name "X:A": character ':' is not allowed`},
	}
	for _, c := range cases {
		if err := send(c.h...); err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("%q: error %v, want %s", c.h, err, c.want)
		}
		if len(checked) != 2 || checked[0] != [2]string{name, value} {
			t.Fatalf("a failed request changed the memory: %q", checked)
		}
	}
}

// TestLayeredHeadSent: the runner's header list goes out exactly as given
// through the one-pass head, request after request on one connection, with
// a request's own Host replacing the transport's.
func TestLayeredHeadSent(t *testing.T) {
	srv := newRawServer(t, okJSON)
	cl := newClient(t, func(c *Config) { c.UserAgent = "" }, 1)
	ua, accept := "loadstar", "application/json"
	for i, own := range []bool{false, false, true, false} {
		rid, session := fmt.Sprintf("rid-%d", i), fmt.Sprintf("sid-%d", i/2)
		hs := [][2]string{{"User-Agent", ua}, {"X-Request-ID", rid}, {"X-Correlation-ID", session}, {"Accept", accept}}
		host := "Host: " + srv.ln.Addr().String() + "\r\n"
		if own {
			hs = append(hs, [2]string{"host", "example.test"})
			host = ""
		}
		rec := record.New()
		rec.XRequestID, rec.XCorrelationID = rid, session
		cl.Do(context.Background(), &Request{URL: srv.url("/v1"), Body: []byte("{}"), Verbatim: true, Headers: hs}, &recorder{}, rec)
		wantNoError(t, rec)
		want := "POST /v1 HTTP/1.1\r\n" + host + "User-Agent: loadstar\r\nX-Request-ID: " + rid + "\r\nX-Correlation-ID: " + session +
			"\r\nAccept: application/json\r\n"
		if own {
			want += "host: example.test\r\n"
		}
		want += "Content-Length: 2"
		reqs := srv.requests()
		if got := reqs[len(reqs)-1].head; got != want {
			t.Fatalf("request %d head:\n%s\nwant:\n%s", i, got, want)
		}
	}
	if d := cl.Stats().Dials; d != 1 {
		t.Errorf("%d connections, want 1 (the memory is per connection)", d)
	}
}

// checkHeaderValueBytewise is checkHeaderValue one byte at a time.
func checkHeaderValueBytewise(v string) error {
	for i := 0; i < len(v); i++ {
		if c := v[i]; (c < ' ' && c != '\t') || c == 0x7f {
			return fmt.Errorf("value contains control character %q at byte %d", c, i)
		}
	}
	return nil
}

// FuzzCheckHeaderValue compares the eight-bytes-at-a-time check with the
// byte-by-byte one.
func FuzzCheckHeaderValue(f *testing.F) {
	for _, v := range append(headVocab, "\x80\x9f\xff\x20\x7e\x7f\x00\x1f", "abcdefg\x7f", "abcdefgh\t", "\xa0\xa0\xa0\xa0\xa0\xa0\xa0\x1f") {
		f.Add(v)
	}
	f.Fuzz(func(t *testing.T, v string) {
		got, want := checkHeaderValue(v), checkHeaderValueBytewise(v)
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("checkHeaderValue(%q) = %v, want %v", v, got, want)
		}
		for i := range 256 { // every byte at every offset of the last word
			w := []byte(v + "01234567")
			w[len(w)-1-i%8] = byte(i)
			if got, want := checkHeaderValue(string(w)), checkHeaderValueBytewise(string(w)); fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("checkHeaderValue(%q) = %v, want %v", w, got, want)
			}
		}
	})
}
