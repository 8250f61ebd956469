package mock

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/loadstar/loadstar/engine/redact"
)

// recorder writes one JSON line per received request to w, each line in a
// single Write so that a file sees it as soon as the request arrives.
type recorder struct {
	mu     sync.Mutex
	w      io.Writer
	failed bool
}

// RecordedRequest is one line of a --record file.
type RecordedRequest struct {
	Time    time.Time         `json:"time"`
	Method  string            `json:"method"`
	Path    string            `json:"path"`
	Query   string            `json:"query,omitempty"`
	Headers map[string]string `json:"headers"`
	// Body is the request body: JSON kept as JSON, anything else as a string.
	Body json.RawMessage `json:"body,omitempty"`
}

// Redacted replaces the value of every credential header and secret query
// parameter in records (package redact's rules).
const Redacted = redact.Redacted

func (r *recorder) record(ctx *fasthttp.RequestCtx, log *slog.Logger) {
	rec := RecordedRequest{
		Time:    time.Now().UTC(),
		Method:  string(ctx.Method()),
		Path:    string(ctx.Path()),
		Query:   redact.Query(string(ctx.QueryArgs().QueryString())),
		Headers: map[string]string{},
	}
	for k, v := range ctx.Request.Header.All() {
		name := string(k)
		val := redact.Header(name, string(v))
		if prev, ok := rec.Headers[name]; ok {
			val = prev + ", " + val
		}
		rec.Headers[name] = val
	}
	if body := ctx.PostBody(); len(body) > 0 {
		var c bytes.Buffer
		if json.Valid(body) && json.Compact(&c, body) == nil {
			rec.Body = c.Bytes()
		} else {
			rec.Body, _ = json.Marshal(string(body))
		}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // <redacted> stays readable
	if enc.Encode(rec) != nil {
		return
	}
	line := buf.Bytes() // Encode ends the line
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, err := r.w.Write(line); err != nil && !r.failed {
		r.failed = true // report once, keep serving
		log.Error("mock server: cannot write the request record", "err", err)
	}
}
