package transport_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/loadstar/loadstar/engine/clock"
	"github.com/loadstar/loadstar/engine/record"
	"github.com/loadstar/loadstar/engine/sse"
	"github.com/loadstar/loadstar/internal/transport"
)

// textParser is a minimal Handler: each SSE message's data becomes a text
// response (engine/endpoint's parsers do the real JSON work).
type textParser struct{}

func (textParser) Message(m *sse.Message, rec *record.Record) {
	if m.HasData && string(m.Data) != "[DONE]" {
		rec.AddText(m.PerfNs, record.KindText, m.Data, nil)
	}
}

func (textParser) Body(_ string, body []byte, perfNs int64, rec *record.Record) {
	rec.AddText(perfNs, record.KindText, body, nil)
}

func ExampleHTTP_Do() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprint(w, "data: Hello\n\ndata: world\n\ndata: [DONE]\n\n")
	}))
	defer srv.Close()

	cl, err := transport.New(clock.New(), transport.DefaultConfig(), 1)
	if err != nil {
		panic(err)
	}
	defer cl.Close()

	rec := record.New()
	rec.XRequestID = "6f1d…" // the runner sets a UUID per request
	cl.Do(context.Background(), &transport.Request{
		URL:    srv.URL + "/v1/chat/completions",
		Body:   []byte(`{"model":"m","stream":true}`),
		Stream: true,
		APIKey: "sk-…", // sent as Authorization: Bearer, never printed
	}, textParser{}, rec)

	fmt.Println("status:", rec.Status, "error:", rec.Error)
	fmt.Println("responses:", len(rec.Responses), "text:", string(rec.Output))
	fmt.Println("ordered:", rec.StartNs <= rec.SentNs && rec.SentNs <= rec.HeadersNs && rec.HeadersNs <= rec.Responses[0].PerfNs && rec.Responses[1].PerfNs <= rec.EndNs)
	// Output:
	// status: 200 error: <nil>
	// responses: 2 text: Helloworld
	// ordered: true
}

func ExampleConfig_Open() {
	cfg := transport.DefaultConfig()
	cfg.Insecure = true                          // self-signed test server
	cfg.FirstByteTimeout = 30 * time.Second      // limit on waiting for response headers
	cfg.Headers = [][2]string{{"X-Tenant", "a"}} // sent with every request
	cl, err := cfg.Open(clock.New(), 64)         // pools sized for concurrency 64
	if err != nil {
		panic(err)
	}
	defer cl.Close()
	fmt.Println(cfg.FirstByteTimeout, cfg.Headers)
	// Output: 30s [[X-Tenant a]]
}
