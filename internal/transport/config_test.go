package transport

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/loadstar/loadstar/engine/clock"
	"github.com/loadstar/loadstar/engine/ordered"
	"github.com/loadstar/loadstar/engine/plugin"
	"github.com/loadstar/loadstar/engine/record"
)

func TestClassDefaults(t *testing.T) {
	c := Classes()["HTTP"]
	if c == nil {
		t.Fatal("no HTTP class")
	}
	v, err := c.Build("transport.http", nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg := v.(*Config)
	if cfg.ConnectTimeout != defaultConnectTimeout || cfg.RequestTimeout != defaultRequestTimeout ||
		cfg.SessionHeader != "" || cfg.NoSessionAffinity || cfg.UserAgent != "" ||
		cfg.ReadBufferSize != defaultReadBufferSize || cfg.Reuse != reusePooled {
		t.Fatalf("defaults %+v", cfg)
	}
	cl, err := New(clock.New(), *cfg, 0)
	if err != nil {
		t.Fatal(err)
	}
	if cl.sessionHeader != "X-Correlation-ID" || !cl.affinity || !strings.HasPrefix(cl.userAgent, "loadstar/") || cl.verbatimEdits {
		t.Fatalf("resolved defaults: %q %v %q %v", cl.sessionHeader, cl.affinity, cl.userAgent, cl.verbatimEdits)
	}
	var _ Transport = cfg
	for _, p := range c.Params {
		if p.Doc == "" || strings.ToLower(p.Name) != p.Name {
			t.Errorf("param %q needs a snake_case name and a doc", p.Name)
		}
	}
}

func TestClassArgs(t *testing.T) {
	v, err := Classes()["HTTP"].Build("transport.http", plugin.Args{
		"connect_timeout":    2 * time.Second,
		"first_byte_timeout": 5 * time.Second,
		"insecure":           true,
		"max_connections":    int64(8),
		"read_buffer_size":   int64(65536),
		"keepalive_timeout":  time.Minute,
		"connection_reuse":   "never",
		"user_agent":         "bench/1",
		"session_header":     "X-Session",
		"session_affinity":   false,
		"headers":            ordered.FromPairs("X-Tenant", "a", "Authorization", "Bearer sk-live", "X-N", int64(3)),
	})
	if err != nil {
		t.Fatal(err)
	}
	cfg := v.(*Config)
	if cfg.ConnectTimeout != 2*time.Second || cfg.FirstByteTimeout != 5*time.Second || !cfg.Insecure ||
		cfg.MaxConnections != 8 || cfg.ReadBufferSize != 65536 || cfg.KeepaliveTimeout != time.Minute ||
		cfg.Reuse != reuseNever || cfg.UserAgent != "bench/1" || cfg.SessionHeader != "X-Session" || !cfg.NoSessionAffinity {
		t.Fatalf("config %+v", cfg)
	}
	if len(cfg.Headers) != 3 || cfg.Headers[2] != [2]string{"X-N", "3"} {
		t.Fatalf("headers %v", cfg.Headers)
	}
	s := cfg.String()
	if strings.Contains(s, "sk-live") || !strings.Contains(s, `"Authorization": "<redacted>"`) || !strings.Contains(s, `"X-Tenant": "a"`) {
		t.Fatalf("String() = %s", s)
	}
}

func TestClassBadArgs(t *testing.T) {
	cases := []struct {
		args plugin.Args
		want string
	}{
		{plugin.Args{"connect_timeout": -time.Second}, "connect_timeout: must be >= 0"},
		{plugin.Args{"request_timeout": time.Duration(0)}, "request_timeout: must be > 0"},
		{plugin.Args{"max_connections": int64(-1)}, "max_connections: must be >= 0"},
		{plugin.Args{"read_buffer_size": int64(100)}, "read_buffer_size: must be between 4096 and"},
		{plugin.Args{"connection_reuse": "sticky"}, `argument connection_reuse: "sticky" is not one of pooled, never`},
		{plugin.Args{"session_header": "X Session"}, "session_header: header name"},
		{plugin.Args{"user_agent": "a\nb"}, "user_agent: value contains control character"},
		{plugin.Args{"headers": ordered.FromPairs("Content-Length", "1")}, "headers: Content-Length is set by the transport"},
		{plugin.Args{"headers": ordered.FromPairs("Accept-Encoding", "gzip")}, "headers: Accept-Encoding is set by the transport"},
		{plugin.Args{"headers": ordered.FromPairs("X-A", []any{1})}, `headers: value of "X-A" must be a string`},
		{plugin.Args{"headers": ordered.FromPairs("Authorization", "Bearer sk-x\r\n")}, "headers: header Authorization: value contains control character"},
	}
	for _, tc := range cases {
		_, err := Classes()["HTTP"].Build("transport.http", tc.args)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "transport.http: ") {
			t.Errorf("%v: error %v, want %q", tc.args, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "sk-x") {
			t.Errorf("error leaks a secret: %v", err)
		}
	}
	// A Config built in Go is checked too.
	cfg := DefaultConfig()
	cfg.Reuse = "sticky"
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), `connection_reuse: must be "pooled" or "never"`) {
		t.Errorf("Validate(reuse=sticky) = %v", err)
	}
}

func TestOpen(t *testing.T) {
	cfg := DefaultConfig()
	cl, err := cfg.Open(clock.New(), 16)
	if err != nil {
		t.Fatal(err)
	}
	if h := cl.(*HTTP); h.maxConns != 16 {
		t.Fatalf("pool sized %d for 16 in flight", h.maxConns)
	}
	cfg.MaxConnections = 4
	cl2, _ := cfg.Open(clock.New(), 16)
	if h := cl2.(*HTTP); h.maxConns != 4 {
		t.Fatalf("max_connections ignored: %d", h.maxConns)
	}
	if _, err := New(nil, cfg, 0); err == nil {
		t.Fatal("nil clock accepted")
	}
}

func TestRedactHeaders(t *testing.T) {
	in := [][2]string{{"Authorization", "Bearer a"}, {"x-api-key", "b"}, {"api-key", "c"}, {"Cookie", "d"}, {"X-Auth-Token", "e"}, {"Accept", "f"}}
	out := redactHeaders(in)
	for i, h := range out[:5] {
		if h[1] != plugin.Redacted {
			t.Errorf("%s not redacted", in[i][0])
		}
	}
	if out[5][1] != "f" || in[0][1] != "Bearer a" {
		t.Fatal("redactHeaders must redact only secrets and not modify its input")
	}
}

func TestVerbatimHeaders(t *testing.T) {
	srv := newRawServer(t, okJSON)
	hs := [][2]string{{"User-Agent", "aiperf/x"}, {"X-Request-ID", "r"}, {"X-Session", "s"}, {"Accept", "text/event-stream"},
		{"Content-Type", "application/json"}, {"X-Tenant", "list"}, {"X-Session-Affinity", "s"}}
	send := func(cl *HTTP) string {
		rec := record.New()
		rec.XRequestID, rec.XCorrelationID = "r", "s"
		cl.Do(context.Background(), &Request{URL: srv.url("/v1"), Body: []byte("{}"), Verbatim: true, Headers: hs, APIKey: "ignored"}, &recorder{}, rec)
		wantNoError(t, rec)
		reqs := srv.requests()
		return reqs[len(reqs)-1].head
	}
	host := "Host: " + srv.ln.Addr().String() + "\r\n"

	// Nothing set explicitly: the list goes out exactly as given.
	plain := newClient(t, func(c *Config) { c.UserAgent = "" }, 0)
	want := "POST /v1 HTTP/1.1\r\n" + host + "User-Agent: aiperf/x\r\nX-Request-ID: r\r\nX-Session: s\r\nAccept: text/event-stream\r\nContent-Type: application/json\r\nX-Tenant: list\r\nX-Session-Affinity: s\r\nContent-Length: 2"
	if got := send(plain); got != want {
		t.Fatalf("head:\n%s\nwant:\n%s", got, want)
	}

	// Explicit transport parameters still apply to verbatim lists.
	edited := newClient(t, func(c *Config) {
		c.UserAgent = "mine/1"
		c.SessionHeader = "X-Conversation"
		c.NoSessionAffinity = true
		c.Headers = [][2]string{{"x-tenant", "cfg"}}
	}, 0)
	want = "POST /v1 HTTP/1.1\r\n" + host + "User-Agent: mine/1\r\nX-Request-ID: r\r\nX-Conversation: s\r\nAccept: text/event-stream\r\nContent-Type: application/json\r\nx-tenant: cfg\r\nContent-Length: 2"
	if got := send(edited); got != want {
		t.Fatalf("head:\n%s\nwant:\n%s", got, want)
	}
}

func TestClosedClient(t *testing.T) {
	srv := newRawServer(t, okJSON)
	cl := newClient(t, nil, 1)
	wantNoError(t, do(cl, &Request{URL: srv.url("/")}, &recorder{}))
	_ = cl.Close()
	wantError(t, do(cl, &Request{URL: srv.url("/")}, &recorder{}), 0, record.ErrConnect, "transport closed")
	// The idle connection was closed: the server sees EOF.
	time.Sleep(20 * time.Millisecond)
	srv.mu.Lock()
	c := srv.conns[0]
	srv.mu.Unlock()
	_ = c.SetReadDeadline(time.Now().Add(time.Second))
	if _, err := c.Read(make([]byte, 1)); err == nil {
		t.Fatal("idle connection still open after Close")
	} else if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatal("idle connection still open after Close")
	}
}

func TestCancelLaterThanResponse(t *testing.T) {
	srv := newRawServer(t, okJSON)
	cl := newClient(t, nil, 0)
	rec := do(cl, &Request{URL: srv.url("/"), Cancel: true, CancelAfter: time.Second}, &recorder{})
	wantNoError(t, rec)
	if rec.Cancelled {
		t.Fatal("a request that finished before its cancel delay was marked cancelled")
	}
	// The deadline must not poison the reused connection.
	wantNoError(t, do(cl, &Request{URL: srv.url("/")}, &recorder{}))
}
