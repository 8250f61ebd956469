package transport

import (
	"fmt"
	"runtime/debug"
	"strings"
	"time"

	"github.com/loadstar/loadstar/engine/clock"
	"github.com/loadstar/loadstar/engine/ordered"
	"github.com/loadstar/loadstar/engine/plugin"
)

// version is the loadstar version in the default User-Agent. Release builds
// set it with -ldflags "-X github.com/loadstar/loadstar/internal/transport.version=v1.2.3";
// otherwise it comes from the module build info, else "dev".
var version string

// Defaults of the http transport parameters.
// The ranges of max_response_bytes and max_redirects (loadstar profile
// checks its flags against them).
const (
	MinMaxResponseBytes = 1 << 10
	MaxMaxResponseBytes = 1 << 30 // record offsets are int32
	MaxMaxRedirects     = 100
)

const (
	defaultConnectTimeout   = 30 * time.Second
	defaultRequestTimeout   = 6 * time.Hour // AIPerf's --request-timeout-seconds default (21600 s)
	defaultKeepaliveTimeout = 300 * time.Second
	defaultReadBufferSize   = 16 << 10
	defaultSessionHeader    = "X-Correlation-ID"
	// defaultMaxResponseBytes bounds the memory one response can take
	// (docs/reliability.md): far above any real answer (a 128k-token
	// completion streamed as SSE is about 30 MB), far below what would
	// hurt the machine.
	defaultMaxResponseBytes = 64 << 20
	// defaultMaxRedirects is what aiohttp (AIPerf's client) and Go's
	// net/http follow.
	defaultMaxRedirects = 10
	// maxErrorBody caps the body text kept in a non-2xx error record.
	maxErrorBody = 4 << 10

	minReadBufferSize = 4 << 10
	maxReadBufferSize = 16 << 20
)

// Connection reuse strategies (the connection_reuse parameter).
const (
	reusePooled = "pooled" // keep-alive connections shared by all requests to a host
	reuseNever  = "never"  // a new connection per request, closed after it
)

// Config is the validated configuration of the http transport: the plugin's
// parameters. It implements Transport; Open starts a client on a run's clock.
type Config struct {
	// ConnectTimeout bounds TCP connect plus TLS handshake (0 = only the
	// request timeout).
	ConnectTimeout time.Duration
	// FirstByteTimeout bounds the wait from the request being fully written
	// to the response status line and headers (0 = only the request timeout).
	FirstByteTimeout time.Duration
	// RequestTimeout is the total time of one request (pool wait, connect,
	// send, receive) when Request.Timeout is 0.
	RequestTimeout time.Duration
	// Insecure skips TLS certificate verification.
	Insecure bool
	// MaxConnections caps connections per host; 0 sizes the pool from the
	// in-flight limit the runner passes to Open (unbounded if that is 0 too).
	MaxConnections int
	// ReadBufferSize is the size of one network read. It is not a limit:
	// larger messages and bodies are accumulated up to MaxResponseBytes.
	ReadBufferSize int
	// KeepaliveTimeout is how long an idle pooled connection is kept.
	KeepaliveTimeout time.Duration
	// Reuse is reusePooled or reuseNever.
	Reuse string
	// UserAgent is sent as User-Agent ("" = "loadstar/<version>"). When
	// set it also replaces the User-Agent of Verbatim requests.
	UserAgent string
	// SessionHeader names the header carrying Record.XCorrelationID
	// ("" = X-Correlation-ID). When set it also renames the session header
	// of Verbatim requests.
	SessionHeader string
	// NoSessionAffinity stops sending the correlation id as
	// X-Session-Affinity (sent by default, as AIPerf does, so routers can pin
	// a session to a replica), also from Verbatim requests.
	NoSessionAffinity bool
	// Headers are sent with every request, before the request's own
	// headers; in Verbatim requests they replace headers of the same name.
	Headers [][2]string
	// MaxResponseBytes bounds one response body; a larger one fails the
	// request with record.ErrTooLarge and the run goes on.
	MaxResponseBytes int64
	// MaxRedirects is how many same-server redirects one request follows
	// (0 = none: a redirect fails the request with its Location).
	MaxRedirects int
}

// DefaultConfig returns the configuration of transport.http() without
// arguments: its parameters' defaults.
func DefaultConfig() Config {
	v, err := httpClass.Build("transport.http", nil)
	if err != nil {
		panic(err) // the declared defaults are valid (TestClassDefaults)
	}
	return *v.(*Config)
}

func (c *Config) userAgent() string {
	if c.UserAgent != "" {
		return c.UserAgent
	}
	return defaultUserAgent()
}

func (c *Config) sessionHeader() string {
	if c.SessionHeader != "" {
		return c.SessionHeader
	}
	return defaultSessionHeader
}

// defaultUserAgent returns "loadstar/<version>".
func defaultUserAgent() string {
	v := version
	if v == "" {
		if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			v = bi.Main.Version
		} else {
			v = "dev"
		}
	}
	return "loadstar/" + v
}

// Validate reports the first invalid field, named as its plugin parameter.
func (c *Config) Validate() error {
	bad := func(param, format string, a ...any) error {
		return fmt.Errorf("transport.http: %s: %s", param, fmt.Sprintf(format, a...))
	}
	switch {
	case c.ConnectTimeout < 0:
		return bad("connect_timeout", "must be >= 0, got %s", c.ConnectTimeout)
	case c.FirstByteTimeout < 0:
		return bad("first_byte_timeout", "must be >= 0, got %s", c.FirstByteTimeout)
	case c.RequestTimeout <= 0:
		return bad("request_timeout", "must be > 0, got %s", c.RequestTimeout)
	case c.MaxConnections < 0:
		return bad("max_connections", "must be >= 0 (0 = sized from the load), got %d", c.MaxConnections)
	case c.ReadBufferSize < minReadBufferSize || c.ReadBufferSize > maxReadBufferSize:
		return bad("read_buffer_size", "must be between %d and %d bytes, got %d", minReadBufferSize, maxReadBufferSize, c.ReadBufferSize)
	case c.KeepaliveTimeout <= 0:
		return bad("keepalive_timeout", "must be > 0, got %s", c.KeepaliveTimeout)
	case c.Reuse != reusePooled && c.Reuse != reuseNever:
		return bad("connection_reuse", "must be %q or %q, got %q", reusePooled, reuseNever, c.Reuse)
	case c.MaxResponseBytes < MinMaxResponseBytes || c.MaxResponseBytes > MaxMaxResponseBytes:
		return bad("max_response_bytes", "must be between %d (1 KiB) and %d (1 GiB), got %d", MinMaxResponseBytes, MaxMaxResponseBytes, c.MaxResponseBytes)
	case c.MaxRedirects < 0 || c.MaxRedirects > MaxMaxRedirects:
		return bad("max_redirects", "must be between 0 and %d, got %d", MaxMaxRedirects, c.MaxRedirects)
	}
	if err := checkHeaderValue(c.UserAgent); err != nil {
		return bad("user_agent", "%v", err)
	}
	if c.SessionHeader != "" {
		if err := checkHeaderName(c.SessionHeader); err != nil {
			return bad("session_header", "%v", err)
		}
	}
	for _, h := range c.Headers {
		if err := checkHeader(h[0], h[1]); err != nil {
			return bad("headers", "%v", err)
		}
		if isFramingHeader(h[0]) {
			return bad("headers", "%s is set by the transport and cannot be given", h[0])
		}
	}
	return nil
}

// String describes the configuration with secret header values redacted.
func (c Config) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "transport.http(connect_timeout=%s, first_byte_timeout=%s, request_timeout=%s, insecure=%t, max_connections=%d, read_buffer_size=%d, keepalive_timeout=%s, connection_reuse=%q, user_agent=%q, session_header=%q, session_affinity=%t, max_response_bytes=%d, max_redirects=%d",
		c.ConnectTimeout, c.FirstByteTimeout, c.RequestTimeout, c.Insecure, c.MaxConnections, c.ReadBufferSize, c.KeepaliveTimeout, c.Reuse, c.userAgent(), c.sessionHeader(), !c.NoSessionAffinity, c.MaxResponseBytes, c.MaxRedirects)
	if len(c.Headers) > 0 {
		b.WriteString(", headers={")
		for i, h := range redactHeaders(c.Headers) {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "%q: %q", h[0], h[1])
		}
		b.WriteString("}")
	}
	b.WriteString(")")
	return b.String()
}

// Open implements Transport: it starts a client that stamps times on clk and
// sizes each host's pool for inFlight concurrent requests (0 = unknown).
func (c *Config) Open(clk clock.Clock, inFlight int) (Client, error) {
	return New(clk, *c, inFlight)
}

// Classes returns the transport plugin classes of this package, keyed by the
// Go name used in plugins.yaml (class go:internal/transport.HTTP).
func Classes() map[string]*plugin.Class {
	return map[string]*plugin.Class{"HTTP": httpClass}
}

var httpClass = &plugin.Class{
	Params: []plugin.Param{
		{Name: "connect_timeout", Type: plugin.TDuration, Default: defaultConnectTimeout,
			Doc: "Limit on TCP connect plus TLS handshake of a new connection (0 = only request_timeout). A timeout is recorded as TimeoutError."},
		{Name: "first_byte_timeout", Type: plugin.TDuration, Default: time.Duration(0),
			Doc: "Limit from the request being fully written to the response headers arriving (0 = only request_timeout)."},
		{Name: "request_timeout", Type: plugin.TDuration, Default: defaultRequestTimeout,
			Doc: "Total time of one request: pool wait, connect, send and the whole response (AIPerf's --request-timeout-seconds, default 6h)."},
		{Name: "insecure", Type: plugin.TBool, Default: false,
			Doc: "Skip TLS certificate verification for https URLs (self-signed test servers)."},
		{Name: "max_connections", Type: plugin.TInt, Default: int64(0),
			Doc: "Most connections per host; requests beyond it wait for a free one. 0 sizes the pool from the timing strategy's concurrency (unbounded for open-loop rates)."},
		{Name: "read_buffer_size", Type: plugin.TInt, Default: int64(defaultReadBufferSize),
			Doc: "Bytes per network read (4 KiB–16 MiB). Not a limit: longer SSE messages and bodies are accumulated up to max_response_bytes."},
		{Name: "keepalive_timeout", Type: plugin.TDuration, Default: defaultKeepaliveTimeout,
			Doc: "How long an idle pooled connection is kept before it is closed."},
		{Name: "connection_reuse", Type: plugin.TString, Default: reusePooled, Choices: []string{reusePooled, reuseNever},
			Doc: `"pooled" shares keep-alive connections between requests; "never" opens a new connection per request and closes it after.`},
		{Name: "user_agent", Type: plugin.TString,
			Doc: `User-Agent header (default "loadstar/<version>", or the endpoint's); a User-Agent in headers overrides it.`},
		{Name: "session_header", Type: plugin.TString,
			Doc: `Header that carries the session (correlation) id of multi-turn conversations (default "X-Correlation-ID").`},
		{Name: "session_affinity", Type: plugin.TBool, Default: true,
			Doc: "Also send the session id as X-Session-Affinity (AIPerf's default) so routers keep a session on one replica; False stops it."},
		{Name: "headers", Type: plugin.TDict,
			Doc: `Extra headers sent with every request, e.g. {"X-Tenant": "a"}. Secret values (Authorization, keys, tokens) are never printed.`},
		{Name: "max_response_bytes", Type: plugin.TInt, Default: int64(defaultMaxResponseBytes),
			Doc: "Largest response body one request may receive (1 KiB–1 GiB, default 64 MiB): the memory a response can hold. A larger one fails that request as ResponseTooLarge and the run goes on (docs/reliability.md)."},
		{Name: "max_redirects", Type: plugin.TInt, Default: int64(defaultMaxRedirects),
			Doc: "Redirects one request follows to the same server (307/308 repeat the request; 301/302/303 only for GET). 0 = none. A redirect not followed fails the request as RedirectNotFollowed with its Location."},
	},
	New: newFromArgs,
}

func newFromArgs(args plugin.Args) (any, error) {
	c := Config{
		ConnectTimeout:    args.Duration("connect_timeout"),
		FirstByteTimeout:  args.Duration("first_byte_timeout"),
		RequestTimeout:    args.Duration("request_timeout"),
		Insecure:          args.Bool("insecure"),
		MaxConnections:    int(args.Int("max_connections")),
		ReadBufferSize:    int(args.Int("read_buffer_size")),
		KeepaliveTimeout:  args.Duration("keepalive_timeout"),
		Reuse:             args.String("connection_reuse"),
		UserAgent:         args.String("user_agent"),
		SessionHeader:     args.String("session_header"),
		NoSessionAffinity: !args.Bool("session_affinity"),
		MaxResponseBytes:  args.Int("max_response_bytes"),
		MaxRedirects:      int(args.Int("max_redirects")),
	}
	if m := args.Dict("headers"); m != nil {
		hs, err := headersFromMap(m)
		if err != nil {
			return nil, err
		}
		c.Headers = hs
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return &c, nil
}

func headersFromMap(m *ordered.Map) ([][2]string, error) {
	hs := make([][2]string, 0, m.Len())
	for _, k := range m.Keys() {
		v, _ := m.Get(k)
		s, ok := v.(string)
		if !ok {
			// Numbers are fine as header values; anything else is a mistake.
			switch v.(type) {
			case int64, int, float64, bool:
				s = fmt.Sprint(v)
			default:
				return nil, fmt.Errorf("transport.http: headers: value of %q must be a string, got %T", k, v)
			}
		}
		hs = append(hs, [2]string{k, s})
	}
	return hs, nil
}
