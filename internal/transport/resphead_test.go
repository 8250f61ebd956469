package transport

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"testing"

	"github.com/valyala/fasthttp"
)

// pieceReader serves data in reads that end at cut (when inside data) and
// then at most step bytes each, as a network delivers a response in pieces;
// after data it returns end (io.EOF when nil).
type pieceReader struct {
	data      []byte
	cut, step int
	end       error
}

func (r *pieceReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		if r.end != nil {
			return 0, r.end
		}
		return 0, io.EOF
	}
	n := min(len(p), len(r.data))
	if r.cut > 0 && r.cut < n {
		n = r.cut
	} else if r.step > 0 && r.step < n {
		n = r.step
	}
	r.cut -= n
	copy(p, r.data[:n])
	r.data = r.data[n:]
	return n, nil
}

// compareHeads reads up to three heads from data through readHead and
// through fasthttp's ResponseHeader.Read (what the transport used before
// readHead), each from its own reader delivering the same pieces, and fails
// on any difference in error, status, framing, keep-alive, reason, content
// type, Location or bytes consumed. It reports whether readHead's one-pass
// parser took the first head.
func compareHeads(t *testing.T, data []byte, cut, step, size int) (fast bool) {
	t.Helper()
	fr := bufio.NewReaderSize(&pieceReader{data: data, cut: cut, step: step}, size)
	sr := bufio.NewReaderSize(&pieceReader{data: data, cut: cut, step: step}, size)
	var h respHead
	var slow, ref fasthttp.ResponseHeader
	slow.DisableNormalizing()
	ref.DisableNormalizing()
	pr := bufio.NewReaderSize(&pieceReader{data: data, cut: cut, step: step}, size)
	if _, err := pr.Peek(1); err == nil {
		buf, _ := pr.Peek(pr.Buffered())
		var probe respHead
		fast = probe.parseBuffered(buf) > 0
	}
	for n := range 3 {
		gotErr := readHead(fr, &h, &slow)
		wantErr := ref.Read(sr)
		if (gotErr == nil) != (wantErr == nil) || gotErr != nil && gotErr.Error() != wantErr.Error() {
			t.Fatalf("head %d of %q: error %v, fasthttp %v", n, data, gotErr, wantErr)
		}
		if gotErr != nil {
			var a, b *fasthttp.ErrSmallBuffer
			if errors.As(gotErr, &a) != errors.As(wantErr, &b) || errors.Is(gotErr, fasthttp.ErrTimeout) != errors.Is(wantErr, fasthttp.ErrTimeout) {
				t.Fatalf("head %d of %q: error kinds differ: %#v, fasthttp %#v", n, data, gotErr, wantErr)
			}
			return fast
		}
		want := respHead{
			status:        ref.StatusCode(),
			contentLength: ref.ContentLength(),
			connClose:     ref.ConnectionClose(),
			reason:        ref.StatusMessage(),
			contentType:   ref.ContentType(),
			location:      firstLocation(&ref),
		}
		if h.status != want.status || h.contentLength != want.contentLength || h.connClose != want.connClose ||
			!bytes.Equal(h.reason, want.reason) || !bytes.Equal(h.contentType, want.contentType) || !bytes.Equal(h.location, want.location) {
			t.Fatalf("head %d of %q:\n got %s\nwant %s", n, data, h.String(), want.String())
		}
		if fr.Buffered() != sr.Buffered() {
			t.Fatalf("head %d of %q: %d bytes left buffered, fasthttp %d", n, data, fr.Buffered(), sr.Buffered())
		}
	}
	return fast
}

func (h *respHead) String() string {
	return fmt.Sprintf("status %d length %d close %v reason %q type %q location %q", h.status, h.contentLength, h.connClose, h.reason, h.contentType, h.location)
}

// commonHeads are heads real servers send and edge cases of the usual form;
// the one-pass parser must take every one of them (or the fast path has
// quietly stopped being used).
var commonHeads = []string{
	// fasthttp (loadstar mock), non-streaming and streaming.
	"HTTP/1.1 200 OK\r\nServer: loadstar-mock\r\nDate: Tue, 24 Nov 2026 01:33:10 GMT\r\nContent-Type: application/json\r\nContent-Length: 245\r\n\r\n",
	"HTTP/1.1 200 OK\r\nServer: loadstar-mock\r\nDate: Tue, 24 Nov 2026 01:33:10 GMT\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\nTransfer-Encoding: chunked\r\n\r\n",
	"HTTP/1.1 200 OK\r\nServer: loadstar-mock\r\nDate: Tue, 24 Nov 2026 01:33:10 GMT\r\nContent-Type: application/json\r\nContent-Length: 17\r\nConnection: close\r\n\r\n",
	// uvicorn (vLLM, SGLang): lower-case names.
	"HTTP/1.1 200 OK\r\ndate: Tue, 24 Nov 2026 01:33:10 GMT\r\nserver: uvicorn\r\ncontent-length: 512\r\ncontent-type: application/json\r\n\r\n",
	"HTTP/1.1 200 OK\r\ndate: Tue, 24 Nov 2026 01:33:10 GMT\r\nserver: uvicorn\r\ncontent-type: text/event-stream; charset=utf-8\r\ntransfer-encoding: chunked\r\n\r\n",
	"HTTP/1.1 400 Bad Request\r\ndate: Tue, 24 Nov 2026 01:33:10 GMT\r\nserver: uvicorn\r\ncontent-length: 93\r\ncontent-type: application/json\r\n\r\n",
	// TGI (axum/hyper), nginx in front, redirects, interim and empty answers.
	"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-cache\r\nx-compute-type: gpu+optimized\r\naccess-control-allow-origin: *\r\nvary: origin, access-control-request-method, access-control-request-headers\r\ntransfer-encoding: chunked\r\ndate: Tue, 24 Nov 2026 01:33:10 GMT\r\n\r\n",
	"HTTP/1.1 503 Service Temporarily Unavailable\r\nServer: nginx/1.25.3\r\nDate: Tue, 24 Nov 2026 01:33:10 GMT\r\nContent-Type: text/html\r\nContent-Length: 190\r\nConnection: keep-alive\r\n\r\n",
	"HTTP/1.1 307 Temporary Redirect\r\nLocation: http://127.0.0.1:8001/v1/chat/completions\r\nContent-Length: 0\r\n\r\n",
	"HTTP/1.1 100 Continue\r\n\r\n",
	"HTTP/1.1 204 No Content\r\nX_Trace: a\r\n\r\n",
	"HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n",
	"HTTP/1.1 200 OK\r\nContent-Type:\r\nContent-Length: 000\r\n\r\n",
	"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n",
	"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: CHUNKED\r\n\r\n",
	"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n",
	"HTTP/1.1 200 OK\r\nConnection: close\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\n",
	"HTTP/1.1 302 Found\r\nlocation: /lower-case-first\r\nLocation: /second\r\nLocation: /third\r\nContent-Length: 0\r\n\r\n",
	"HTTP/1.1 999 Ünknown \xff\r\nX-Value: \t a b\x80 \t\r\nContent-Length: 1\r\n\r\n",
}

// unusualHeads are left to fasthttp; readHead must still answer as
// fasthttp does.
var unusualHeads = []string{
	"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\n",
	"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\n",
	"HTTP/1.1 200 OK\nContent-Length: 2\n\n",
	"\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n",
	"HTTP/1.1  200 OK\r\n\r\n",
	"HTTP/1.1 000 Zero\r\nContent-Length: 0\r\n\r\n",
	"HTTP/1.1 2000 OK\r\n\r\n",
	"HTTP/1.1 20x OK\r\n\r\n",
	"HTTP/2.0 200 OK\r\n\r\n",
	"HTTPS/1.1 200 OK\r\n\r\n",
	"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\n",
	"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
	"HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999\r\n\r\n",
	"HTTP/1.1 200 OK\r\nContent-Length: 1 2\r\n\r\n",
	"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
	"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
	"HTTP/1.1 200 OK\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n",
	"HTTP/1.1 200 OK\r\nConnection: Close\r\nContent-Length: 0\r\n\r\n",
	"HTTP/1.1 200 OK\r\nTrailer: X-Checksum\r\nTransfer-Encoding: chunked\r\n\r\n",
	"HTTP/1.1 200 OK\r\nX-Folded: a\r\n b\r\nContent-Length: 0\r\n\r\n",
	"HTTP/1.1 200 OK\r\nX Spaced: a\r\nContent-Length: 0\r\n\r\n",
	"HTTP/1.1 200 OK\r\nContent-Length : 0\r\n\r\n",
	"HTTP/1.1 200 OK\r\n: empty\r\n\r\n",
	"HTTP/1.1 200 OK\r\nX-Bad: a\x01b\r\n\r\n",
	"HTTP/1.1 200 OK\r\nX-Bad: a\rb\r\n\r\n",
	"HTTP/1.1 200 OK\r\n Leading: space\r\n\r\n",
	"HTTP/1.1 200 OK\r\nX.Dot: a\r\nContent-Length: 0\r\n\r\n",
	"HTTP/1.1 200 O\rK\r\n\r\n",
	"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n", // truncated
	"HTTP/1.1 200 OK\r\nContent-Le",
	"HTTP/1.1 2",
	"garbage\r\n\r\n",
	"",
	"\r\n\r\n",
}

// TestReadHeadTakesCommonHeads checks that the one-pass parser takes the
// heads real servers send, whole or arriving in pieces, and reads each as
// fasthttp does.
func TestReadHeadTakesCommonHeads(t *testing.T) {
	for _, head := range commonHeads {
		data := []byte(head + "body")
		if !compareHeads(t, data, 0, 0, 4096) {
			t.Errorf("%q was left to fasthttp", head)
		}
		var h respHead
		if n := h.parseBuffered(data); n != len(head) {
			t.Errorf("%q: parsed %d bytes, want %d", head, n, len(head))
		}
		for cut := 1; cut < len(head); cut++ {
			compareHeads(t, data, cut, 0, 4096)
		}
		compareHeads(t, data, 0, 7, 4096)
	}
}

// TestReadHeadLeavesUnusualHeadsToFasthttp checks that the one-pass parser
// declines what it does not read as fasthttp does, and that readHead then
// answers exactly as fasthttp, malformed and oversized heads included.
func TestReadHeadLeavesUnusualHeadsToFasthttp(t *testing.T) {
	for _, head := range unusualHeads {
		var h respHead
		if n := h.parseBuffered([]byte(head)); n != 0 {
			t.Errorf("%q: the one-pass parser took %d bytes", head, n)
		}
		compareHeads(t, []byte(head), 0, 0, 4096)
		compareHeads(t, []byte(head), 0, 3, 4096)
	}
	big := "HTTP/1.1 200 OK\r\nX-Big: " + string(bytes.Repeat([]byte{'a'}, 300)) + "\r\nContent-Length: 0\r\n\r\n"
	compareHeads(t, []byte(big), 0, 0, 256) // larger than the read buffer
	compareHeads(t, []byte(big), 0, 0, 4096)
}

// TestReadHeadFirstByteErrors: a read that brings nothing reports what
// fasthttp reports (a timeout as fasthttp.ErrTimeout, anything else as
// io.EOF), so the transport's timeout and stale-connection rules hold.
func TestReadHeadFirstByteErrors(t *testing.T) {
	for _, end := range []error{io.EOF, os.ErrDeadlineExceeded, io.ErrClosedPipe} {
		var h respHead
		var slow, ref fasthttp.ResponseHeader
		got := readHead(bufio.NewReader(&pieceReader{end: end}), &h, &slow)
		want := ref.Read(bufio.NewReader(&pieceReader{end: end}))
		if got != want {
			t.Errorf("read error %v: readHead %v, fasthttp %v", end, got, want)
		}
	}
}

// FuzzHeadMatchesFasthttp feeds the same bytes, in the same pieces, to
// readHead and to fasthttp's ResponseHeader.Read and requires the same
// status, framing, keep-alive, reason, content type, Location, bytes
// consumed and errors.
func FuzzHeadMatchesFasthttp(f *testing.F) {
	for _, h := range append(append([]string{}, commonHeads...), unusualHeads...) {
		f.Add([]byte(h+"0\r\n\r\n"+h), uint16(0), uint8(0), uint16(4096))
	}
	f.Add([]byte(commonHeads[0]), uint16(20), uint8(5), uint16(64))
	f.Fuzz(func(t *testing.T, data []byte, cut uint16, step uint8, size uint16) {
		compareHeads(t, data, int(cut), int(step), 16+int(size)%8192)
	})
}

// BenchmarkReadHead reads loadstar mock's non-streaming head (and uvicorn's
// lower-case one) with readHead and with fasthttp's ResponseHeader.Read,
// which the transport used before.
func BenchmarkReadHead(b *testing.B) {
	for _, tc := range []struct{ name, head string }{{"mock", commonHeads[0]}, {"uvicorn", commonHeads[3]}} {
		data := []byte(tc.head + "body")
		r := bytes.NewReader(data)
		br := bufio.NewReaderSize(r, 4096)
		b.Run(tc.name+"/readHead", func(b *testing.B) {
			var h respHead
			var slow fasthttp.ResponseHeader
			b.ReportAllocs()
			for range b.N {
				r.Reset(data)
				br.Reset(r)
				if err := readHead(br, &h, &slow); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(tc.name+"/fasthttp", func(b *testing.B) {
			var ref fasthttp.ResponseHeader
			ref.DisableNormalizing()
			b.ReportAllocs()
			for range b.N {
				r.Reset(data)
				br.Reset(r)
				if err := ref.Read(br); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestHeadBytes checks the byte classes parseBuffered scans with.
func TestHeadBytes(t *testing.T) {
	for c := range 256 {
		name := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_'
		value := c == '\t' || c >= ' ' && c != 0x7f // fasthttp's validHeaderValueByte
		if got := headBytes[c]&headName != 0; got != name {
			t.Errorf("byte %#x: name %v, want %v", c, got, name)
		}
		if got := headBytes[c]&headValue != 0; got != value {
			t.Errorf("byte %#x: value %v, want %v", c, got, value)
		}
	}
}

// TestValidValue puts every byte at every position of a value of each
// length up to 24 and checks validValue against the byte classes.
func TestValidValue(t *testing.T) {
	for n := 1; n <= 24; n++ {
		for pos := range n {
			for c := range 256 {
				v := bytes.Repeat([]byte{'a'}, n)
				v[pos] = byte(c)
				if got, want := validValue(v), headBytes[c]&headValue != 0; got != want {
					t.Fatalf("byte %#x at %d of %d: %v, want %v", c, pos, n, got, want)
				}
			}
		}
	}
}
