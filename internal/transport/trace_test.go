package transport

import (
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/loadstar/loadstar/engine/clock"
	"github.com/loadstar/loadstar/engine/record"
)

// wantPhases checks the HTTP trace of rec: every stamp in order, and the
// connection phases present only on a new connection.
func wantPhases(t *testing.T, rec *record.Record, newConn, tls bool) {
	t.Helper()
	if !(rec.StartNs > 0 && rec.BlockedNs >= 0 && rec.StartNs+rec.BlockedNs <= rec.SendStartNs &&
		rec.SendStartNs <= rec.SentNs && rec.SentNs <= rec.HeadersNs &&
		rec.HeadersNs <= rec.FirstByteNs && rec.FirstByteNs <= rec.LastByteNs && rec.LastByteNs <= rec.EndNs) {
		t.Fatalf("trace out of order: start %d blocked %d sendStart %d sent %d headers %d first %d last %d end %d",
			rec.StartNs, rec.BlockedNs, rec.SendStartNs, rec.SentNs, rec.HeadersNs, rec.FirstByteNs, rec.LastByteNs, rec.EndNs)
	}
	// A host given as an IP address is never resolved.
	if rec.DNSNs != 0 {
		t.Fatalf("DNS %d ns for an IP address", rec.DNSNs)
	}
	if newConn != (rec.ConnectNs > 0) {
		t.Fatalf("new connection %v but connect %d ns", newConn, rec.ConnectNs)
	}
	if (newConn && tls) != (rec.TLSNs > 0) {
		t.Fatalf("TLS handshake %d ns (new connection %v, https %v)", rec.TLSNs, newConn, tls)
	}
	if setup := rec.BlockedNs + rec.ConnectNs + rec.TLSNs; rec.StartNs+setup > rec.SendStartNs {
		t.Fatalf("connection phases (%d ns) overrun the send start", setup)
	}
}

func TestTracePhases(t *testing.T) {
	clk := clock.New()
	srv := newRawServer(t, func(c net.Conn, _ *rawRequest) bool {
		_, _ = c.Write([]byte(sseHead))
		_, _ = c.Write([]byte(chunk("data: {\"a\":1}\n\n")))
		pause()
		_, _ = c.Write([]byte(chunk("data: [DONE]\n\n") + "0\r\n\r\n"))
		return true
	})
	cl, err := New(clk, DefaultConfig(), 1)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	for i := range 2 {
		rec := do(cl, &Request{URL: srv.url("/v1/chat/completions"), Body: []byte("{}"), Stream: true}, &recorder{})
		wantNoError(t, rec)
		wantPhases(t, rec, i == 0, false)
		if !rec.Streamed {
			t.Fatal("an event-stream answer must mark the record streamed")
		}
		if rec.LastByteNs <= rec.FirstByteNs {
			t.Fatalf("two reads apart, the body's first and last bytes share a stamp: %d, %d", rec.FirstByteNs, rec.LastByteNs)
		}
	}
}

func TestTraceNotStreamedWhenJSON(t *testing.T) {
	// A streaming request answered with JSON did not stream on the wire.
	srv := newRawServer(t, okJSON)
	cl := newClient(t, nil, 0)
	rec := do(cl, &Request{URL: srv.url("/"), Body: []byte("{}"), Stream: true}, &recorder{})
	wantNoError(t, rec)
	if rec.Streamed {
		t.Fatal("a JSON answer marked the record streamed")
	}
	wantPhases(t, rec, true, false)
}

func TestTraceTLSHandshake(t *testing.T) {
	ts := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"ok":true}`)
	}))
	ts.Config.ErrorLog = log.New(io.Discard, "", 0)
	ts.StartTLS()
	defer ts.Close()
	cl := newClient(t, func(c *Config) { c.Insecure = true }, 1)
	for i := range 2 {
		rec := do(cl, &Request{URL: ts.URL + "/v1", Body: []byte("{}")}, &recorder{})
		wantNoError(t, rec)
		wantPhases(t, rec, i == 0, true)
	}
}

func TestTraceResolvesHostNames(t *testing.T) {
	srv := newRawServer(t, okJSON)
	cl := newClient(t, nil, 0)
	u := strings.Replace(srv.url("/"), "127.0.0.1", "localhost", 1)
	rec := do(cl, &Request{URL: u, Body: []byte("{}")}, &recorder{})
	if rec.Error != nil {
		t.Skipf("localhost does not reach 127.0.0.1 here: %s", rec.Error.Message)
	}
	if rec.DNSNs <= 0 || rec.ConnectNs <= 0 {
		t.Fatalf("a host name is resolved before connecting: dns %d connect %d", rec.DNSNs, rec.ConnectNs)
	}
}
