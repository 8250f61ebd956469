package mock

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/valyala/fasthttp"
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

// Redacted replaces the value of every credential header in records.
const Redacted = "[REDACTED]"

// secretHeaders are never written to a record (lower case).
var secretHeaders = map[string]bool{
	"authorization": true, "proxy-authorization": true, "x-api-key": true, "api-key": true,
	"cookie": true, "x-goog-api-key": true, "openai-api-key": true, "x-auth-token": true,
}

func (r *recorder) record(ctx *fasthttp.RequestCtx, log *slog.Logger) {
	rec := RecordedRequest{
		Time:    time.Now().UTC(),
		Method:  string(ctx.Method()),
		Path:    string(ctx.Path()),
		Query:   string(ctx.QueryArgs().QueryString()),
		Headers: map[string]string{},
	}
	for k, v := range ctx.Request.Header.All() {
		name := string(k)
		val := string(v)
		if secretHeaders[strings.ToLower(name)] {
			val = Redacted
		}
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
	line, err := json.Marshal(rec)
	if err != nil {
		return
	}
	line = append(line, '\n')
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, err := r.w.Write(line); err != nil && !r.failed {
		r.failed = true // report once, keep serving
		log.Error("mock server: cannot write the request record", "err", err)
	}
}
