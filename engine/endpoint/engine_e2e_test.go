package endpoint_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/loadstar/loadstar/engine/catalog"
	"github.com/loadstar/loadstar/engine/config"
	"github.com/loadstar/loadstar/engine/dataset"
	"github.com/loadstar/loadstar/engine/mock"
	"github.com/loadstar/loadstar/engine/plugin"
	"github.com/loadstar/loadstar/engine/record"
	"github.com/loadstar/loadstar/engine/results"
	"github.com/loadstar/loadstar/engine/runner"
)

// keep is a record sink that copies every record (the runner reuses them).
type keep struct {
	mu   sync.Mutex
	recs []*record.Record
}

func (k *keep) WriteRecord(row *results.RecordRow) {
	r := row.Rec
	c := *r
	c.Responses = append([]record.Response(nil), r.Responses...)
	c.Output = append([]byte(nil), r.Output...)
	c.Reasoning = append([]byte(nil), r.Reasoning...)
	c.Payload = append([]byte(nil), r.Payload...)
	if r.Error != nil {
		e := *r.Error
		c.Error = &e
	}
	k.mu.Lock()
	k.recs = append(k.recs, &c)
	k.mu.Unlock()
}

// TestEngineEndToEnd runs every endpoint through the engine (registry,
// runner, transport, parser, metrics) against the embedded mock: a short
// closed-loop benchmark whose every request must come back valid, with
// multi-turn history for the chat-like endpoints.
func TestEngineEndToEnd(t *testing.T) {
	reg, err := catalog.New()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	srv, err := mock.Start(ctx, mock.Config{Fast: true, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()

	for _, c := range wireCases() {
		name := c.endpoint
		if s, _ := c.args["streaming"].(bool); s {
			name += "/stream"
		}
		if md, _ := c.args["model"].([]string); len(md) > 0 {
			name += "/" + md[0]
		}
		t.Run(name, func(t *testing.T) {
			args := plugin.Args{"url": []string{srv.URL()}}
			for k, v := range c.args {
				args[k] = v
			}
			turns := 1
			switch c.endpoint {
			case "chat", "responses", "messages":
				turns = 2 // the second turn carries the first answer as history
			}
			convs := make([]dataset.Conversation, 3)
			for i := range convs {
				convs[i].ID = fmt.Sprintf("conv-%d", i)
				for range turns {
					convs[i].Turns = append(convs[i].Turns, c.turn())
				}
			}
			cfg := config.Defaults()
			cfg.Endpoint = &plugin.Spec{Category: plugin.Endpoint, Name: c.endpoint, Args: args}
			cfg.Timing = &plugin.Spec{Category: plugin.TimingStrategy, Name: "concurrency", Args: plugin.Args{"concurrency": int64(2)}}
			cfg.Stop = config.Stop{Requests: 6}
			cfg.Seed, cfg.SeedSet = 42, true
			cfg.Output.ArtifactDir = t.TempDir()
			k := &keep{}
			sum, err := runner.Run(ctx, reg, &cfg, nil,
				runner.WithDataset(dataset.NewSet(convs, dataset.Info{Sampler: dataset.Sequential, Source: "test"})),
				runner.WithRecordSink(k))
			if err != nil {
				t.Fatal(err)
			}
			if sum.Info.Issued != 6 || len(k.recs) != 6 {
				t.Fatalf("issued %d, %d records; want 6", sum.Info.Issued, len(k.recs))
			}
			history := 0
			for _, rec := range k.recs {
				if rec.Error != nil {
					t.Fatalf("record error %+v (payload %s)", *rec.Error, rec.Payload)
				}
				if !rec.Valid() {
					t.Fatalf("invalid record: %d responses, start %d end %d", len(rec.Responses), rec.StartNs, rec.EndNs)
				}
				c.check(t, rec)
				if rec.TurnIndex == 1 {
					history++
					if !strings.Contains(string(rec.Payload), `"role":"assistant"`) {
						t.Errorf("second turn without the first answer: %s", rec.Payload)
					}
				}
			}
			if turns == 2 && history == 0 {
				t.Error("no second-turn request was sent")
			}
		})
	}
}
