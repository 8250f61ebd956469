package runner

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/loadstar/loadstar/engine/config"
	"github.com/loadstar/loadstar/engine/dataset"
	"github.com/loadstar/loadstar/engine/endpoint"
	"github.com/loadstar/loadstar/engine/errext"
	"github.com/loadstar/loadstar/engine/record"
	"github.com/loadstar/loadstar/engine/sse"
	"github.com/loadstar/loadstar/internal/transport"
)

// waitForModel waits until the server answers (config.WaitForModel, AIPerf's
// --wait-for-model-*): every interval it probes — GET /v1/models lists the
// model ("models"), or the dataset's first turn sent with a one-token limit
// gets an answer ("inference"), or both in that order — until a probe
// succeeds or the timeout passes, which aborts the run (exit code 13) with
// the last probe's failure.
func (st *Step) waitForModel(ctx context.Context, o *options, client transport.Client) error {
	w := st.Config.WaitForModel
	if w.Timeout <= 0 {
		return nil
	}
	start := time.Now()
	deadline := start.Add(w.Timeout)
	o.log.Info("waiting for the server to answer", "mode", w.Mode, "timeout", w.Timeout, "interval", w.Interval)
	for attempt := 1; ; attempt++ {
		why := st.probe(ctx, client, w.Mode, time.Until(deadline))
		if why == "" {
			o.log.Info("server ready", "after", time.Since(start).Round(time.Millisecond), "attempts", attempt)
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		next := time.Now().Add(w.Interval)
		if !next.Before(deadline) {
			return errext.WithHint(errext.Errorf(errext.RunAborted,
				"the server was not ready within wait_for_model's timeout %s (%d attempts; last: %s)", w.Timeout, attempt, why),
				"start the server, check the endpoint's url and model, or raise the timeout (--wait-for-model-timeout)")
		}
		o.log.Info("server not ready", "attempt", attempt, "reason", why)
		t := time.NewTimer(time.Until(next))
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// probe returns "" when the server passed the mode's checks, else why not.
func (st *Step) probe(ctx context.Context, client transport.Client, mode string, limit time.Duration) string {
	if mode == config.WaitModels || mode == config.WaitBoth {
		if why := st.probeModels(ctx, client, limit); why != "" || mode == config.WaitModels {
			return why
		}
	}
	return st.probeInference(ctx, client, limit)
}

// probeModels asks the OpenAI-style model list and, when the endpoint names
// models, wants one of them listed.
func (st *Step) probeModels(ctx context.Context, client transport.Client, limit time.Duration) string {
	u := modelsURL(st.Settings.URLs[0])
	h := &bodyKeeper{}
	rec := record.New()
	client.Do(ctx, &transport.Request{Method: "GET", URL: u, Headers: st.Settings.AppendHeaders(nil, nil, "", ""),
		Verbatim: true, Timeout: limit}, h, rec)
	if rec.Error != nil {
		return fmt.Sprintf("GET %s: %s", u, rec.Error.Message)
	}
	var list struct {
		Data []struct {
			ID string `json:"id"`
		} `json:"data"`
	}
	if json.Unmarshal(h.body, &list) != nil || len(st.Settings.Models) == 0 {
		return "" // answered; no list to check the model against
	}
	ids := make([]string, len(list.Data))
	for i, m := range list.Data {
		ids[i] = m.ID
	}
	for _, m := range st.Settings.Models {
		if slices.Contains(ids, m) {
			return ""
		}
	}
	return fmt.Sprintf("GET %s does not list model %s (it lists %s)", u, strings.Join(st.Settings.Models, ", "), strings.Join(ids, ", "))
}

// probeInference sends the dataset's first turn, limited to one output
// token, and wants a valid answer.
func (st *Step) probeInference(ctx context.Context, client transport.Client, limit time.Duration) string {
	conv := st.Dataset.Conversation(0)
	turn := conv.Turns[0]
	turn.MaxTokens = 1
	req := endpoint.Request{Turns: []dataset.Turn{turn}, Conversation: conv}
	payload, err := st.Endpoint.FormatPayload(&req)
	if err != nil {
		return "cannot format the probe request: " + err.Error()
	}
	rec := record.New()
	client.Do(ctx, &transport.Request{URL: st.Settings.URLs[0], Headers: st.Settings.AppendHeaders(nil, &turn, "", ""),
		Body: payload, Verbatim: true, Stream: st.Settings.Streaming, Timeout: limit}, apiErrors{st.Endpoint.NewParser()}, rec)
	switch {
	case rec.Error != nil:
		return fmt.Sprintf("%s (%s)", rec.Error.Message, rec.Error.Type)
	case !rec.Valid():
		return "the answer carried no content"
	}
	return ""
}

// modelsURL is the model list next to an endpoint URL: the path up to its
// /v1, else /v1 at the root, followed by /models.
func modelsURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	prefix := "/v1"
	if i := strings.Index(u.Path, "/v1/"); i >= 0 {
		prefix = u.Path[:i+3]
	}
	u.Path, u.RawPath, u.RawQuery, u.Fragment = prefix+"/models", "", "", ""
	return u.String()
}

// bodyKeeper is the Handler of the model-list probe: it keeps the body.
type bodyKeeper struct{ body []byte }

func (b *bodyKeeper) Message(*sse.Message, *record.Record) {}

func (b *bodyKeeper) Body(_ string, body []byte, perfNs int64, rec *record.Record) {
	b.body = append(b.body[:0], body...)
	rec.AddText(perfNs, record.KindText, nil, nil)
}
