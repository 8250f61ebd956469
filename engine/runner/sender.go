package runner

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"sync"
	"sync/atomic"

	"github.com/loadstar/loadstar/engine/clock"
	"github.com/loadstar/loadstar/engine/dataset"
	"github.com/loadstar/loadstar/engine/endpoint"
	"github.com/loadstar/loadstar/engine/record"
	"github.com/loadstar/loadstar/engine/sse"
	"github.com/loadstar/loadstar/engine/timing"
	"github.com/loadstar/loadstar/internal/transport"
)

// errGraceExpired is the cancellation cause of requests still in flight when
// a phase's grace period ends.
var errGraceExpired = errors.New("still in flight when the grace period ended")

// maxCachedPayloads bounds the bytes of pre-formatted first-turn payloads.
const maxCachedPayloads = 64 << 20

// sender turns credits into requests: it formats the payload (the session's
// history plus the turn), sends it with the transport, keeps the server's
// answer in the session's history, and hands the finished record over
// without waiting for the metrics side. It implements timing.Sender.
type sender struct {
	clk      clock.Clock
	ep       endpoint.Endpoint
	settings *endpoint.Settings
	client   transport.Client
	queue    *recordQueue

	// ctx is the current phase's send context: cancelled (cause
	// errGraceExpired) when its grace period ends.
	ctx atomic.Pointer[context.Context]

	// Pre-formatted payloads of first turns (no history), by conversation;
	// they depend only on the conversation, so a pool sampled again and
	// again is formatted once.
	cache      []atomic.Pointer[[]byte]
	cacheBytes atomic.Int64

	counts  *counters
	watch   *failureWatch // nil: no abort rules (Payloads)
	ids     *idGen
	scratch sync.Pool // *sendScratch
}

// sendScratch is what one Send needs besides the record: pooled, so that a
// request allocates nothing here in steady state. Nothing in it outlives
// the Send: the transport and the endpoint keep neither the request nor
// the headers after they return.
type sendScratch struct {
	req   endpoint.Request
	treq  transport.Request
	hdrs  [][2]string
	api   apiErrors
	watch firstTokenWatch
	// parser is kept from request to request when it is Reusable.
	parser endpoint.Parser
}

// counters are the live counts of a step, for progress observers.
type counters struct {
	sent, done, errors, cancelled atomic.Int64
}

type countSnapshot struct{ sent, done, errors, cancelled int64 }

func (c *counters) snapshot() countSnapshot {
	return countSnapshot{c.sent.Load(), c.done.Load(), c.errors.Load(), c.cancelled.Load()}
}

func newSender(clk clock.Clock, ep endpoint.Endpoint, st *endpoint.Settings, cl transport.Client, q *recordQueue, convs int) *sender {
	s := &sender{clk: clk, ep: ep, settings: st, client: cl, queue: q, counts: &counters{}, ids: newIDGen()}
	s.cache = make([]atomic.Pointer[[]byte], convs)
	s.scratch.New = func() any { return &sendScratch{hdrs: make([][2]string, 0, 16)} }
	return s
}

func (s *sender) setContext(ctx context.Context) { s.ctx.Store(&ctx) }

// Send implements timing.Sender.
func (s *sender) Send(c *timing.Credit) int64 {
	ctx := *s.ctx.Load()
	sess := c.Session
	turn := &sess.Conv.Turns[c.Turn]
	rec := s.queue.get()
	rec.Phase, rec.PhaseIndex = c.Phase, c.PhaseIndex
	rec.SessionNum = int(sess.Num)
	rec.ConversationID = sess.Conv.ID
	rec.TurnIndex = c.Turn
	rec.NumTurns = sess.Turns
	rec.XCorrelationID = sess.CorrelationID
	rec.XRequestID = s.ids.next()
	rec.URLIndex = sess.URLIndex
	rec.ScheduledNs = c.ScheduledNs
	rec.CreditNs = c.CreditNs
	rec.RequestedOSL = -1
	if turn.MaxTokens >= 0 {
		rec.RequestedOSL = turn.MaxTokens
	}
	s.counts.sent.Add(1)

	if turn.ResetContext {
		sess.History = sess.History[:0]
	}
	sc := s.scratch.Get().(*sendScratch)
	defer s.release(sc)
	sc.req = endpoint.Request{Conversation: sess.Conv, TurnIndex: c.Turn, Model: s.model(sess, turn)}
	req := &sc.req
	rec.Model = s.settings.Model(req)
	payload, err := s.payload(sess, turn, req)
	if err != nil {
		return s.failEarly(rec, sess, c, turn, err)
	}
	rec.Payload = append(rec.Payload[:0], payload...)
	rec.InputTokens = req.CountedInput()

	hdrs := s.settings.AppendHeaders(sc.hdrs[:0], turn, rec.XRequestID, sess.CorrelationID)
	sc.hdrs = hdrs
	url := s.settings.URLs[sess.URLIndex]
	if sg := s.settings.Signer; sg != nil {
		if hdrs, err = sg.Sign("POST", url, hdrs, rec.Payload); err != nil {
			return s.failEarly(rec, sess, c, turn, err)
		}
		sc.hdrs = hdrs
	}
	sc.treq = transport.Request{
		URL: url, Headers: hdrs, Body: rec.Payload, Verbatim: true,
		Stream: s.settings.Streaming, Cancel: c.Cancel, CancelAfter: c.CancelAfter, Timeout: s.settings.Timeout,
	}
	if sc.parser == nil {
		sc.parser = s.ep.NewParser()
	}
	sc.api = apiErrors{sc.parser}
	var h transport.Handler = &sc.api
	if c.HoldsPrefill() {
		sc.watch = firstTokenWatch{apiErrors: sc.api, credit: c}
		h = &sc.watch
	}
	s.client.Do(ctx, &sc.treq, h, rec)

	if rec.Cancelled && context.Cause(ctx) == errGraceExpired && rec.Error != nil {
		rec.Error.Type = record.ErrGraceExpired
	}
	return s.finish(rec, sess, c, turn)
}

// failEarly records a request that could not be sent (its payload or its
// signature failed) and hands it over.
func (s *sender) failEarly(rec *record.Record, sess *timing.Session, c *timing.Credit, turn *dataset.Turn, err error) int64 {
	now := s.clk.Now()
	rec.StartNs, rec.EndNs, rec.StartWallNs = now, now, s.clk.Wall(now)
	rec.SetError(0, record.ErrPayload, err.Error())
	return s.finish(rec, sess, c, turn)
}

// release returns a Send's scratch to the pool, without the references of
// its request (the conversation, the history, a parser that keeps state).
func (s *sender) release(sc *sendScratch) {
	clear(sc.hdrs)
	p, _ := sc.parser.(endpoint.Reusable)
	*sc = sendScratch{hdrs: sc.hdrs[:0]}
	if p != nil {
		sc.parser = p
	}
	s.scratch.Put(sc)
}

// finish keeps the answer in the session's history, counts the outcome and
// hands the record over; it returns when the request ended.
func (s *sender) finish(rec *record.Record, sess *timing.Session, c *timing.Credit, turn *dataset.Turn) int64 {
	if c.Turn < sess.Turns-1 {
		sess.History = append(sess.History, *turn)
		if len(rec.Output) > 0 {
			sess.History = append(sess.History, answerTurn(string(rec.Output)))
		}
	}
	switch {
	case rec.Cancelled:
		s.counts.cancelled.Add(1)
	case !rec.Valid(): // an error, or a 2xx answer without content (wire.md §9)
		s.counts.errors.Add(1)
	}
	s.counts.done.Add(1)
	if s.watch != nil {
		s.watch.note(rec)
	}
	end := rec.EndNs
	if end == 0 {
		end = s.clk.Now()
	}
	s.queue.push(rec)
	return end
}

// answerTurn is the server's answer as a turn of the history. Its text
// list and the list's one text are allocated together.
func answerTurn(text string) dataset.Turn {
	texts := &struct {
		named    [1]dataset.Named
		contents [1]string
	}{contents: [1]string{text}}
	texts.named[0] = dataset.Named{Name: "text", Contents: texts.contents[:]}
	a := dataset.NewTurn()
	a.Role = "assistant"
	a.Texts = texts.named[:]
	return a
}

// model picks the request's model: the turn's own, else the configured
// models round robin by conversation (AIPerf's default model selection),
// so a session keeps one model.
func (s *sender) model(sess *timing.Session, turn *dataset.Turn) string {
	if turn.Model != "" || len(s.settings.Models) < 2 {
		return ""
	}
	return s.settings.Models[sess.ConvIndex%len(s.settings.Models)]
}

// payload formats the request body; first turns are formatted once per
// conversation.
func (s *sender) payload(sess *timing.Session, turn *dataset.Turn, req *endpoint.Request) ([]byte, error) {
	if len(turn.RawPayload) > 0 {
		return turn.RawPayload, nil // a recorded body (inputs_json, raw_payload) goes as it is
	}
	first := len(sess.History) == 0 && req.TurnIndex == 0
	if len(sess.History) == 0 {
		req.Turns = sess.Conv.Turns[req.TurnIndex : req.TurnIndex+1]
	} else {
		req.Turns = append(sess.History, *turn)
	}
	if first {
		if p := s.cache[sess.ConvIndex].Load(); p != nil {
			return *p, nil
		}
	}
	b, err := s.ep.FormatPayload(req)
	if err != nil {
		return nil, err
	}
	if first && s.cacheBytes.Load()+int64(len(b)) <= maxCachedPayloads {
		s.cacheBytes.Add(int64(len(b)))
		s.cache[sess.ConvIndex].Store(&b)
	}
	return b, nil
}

// SessionPayloads is one conversation's wire payloads, in send order.
type SessionPayloads struct {
	SessionID string
	Payloads  [][]byte
}

// Payloads lists the dataset as the payloads each conversation sends (what
// inputs.json holds): every turn formatted with the earlier turns as
// history, as a replay without the server's answers would send them. A
// turn that cannot be formatted yields an error and is skipped.
func (st *Step) Payloads() iter.Seq2[SessionPayloads, error] {
	return func(yield func(SessionPayloads, error) bool) {
		s := &sender{settings: st.Settings}
		for i := range st.Dataset.Len() {
			conv := st.Dataset.Conversation(i)
			sess := &timing.Session{ConvIndex: i, Conv: conv, Turns: len(conv.Turns)}
			in := SessionPayloads{SessionID: conv.ID}
			var hist []dataset.Turn
			for k := range conv.Turns {
				turn := &conv.Turns[k]
				if turn.ResetContext {
					hist = hist[:0]
				}
				hist = append(hist, *turn)
				if len(turn.RawPayload) > 0 {
					in.Payloads = append(in.Payloads, turn.RawPayload)
					continue
				}
				req := endpoint.Request{Turns: hist, Conversation: conv, TurnIndex: k, Model: s.model(sess, turn)}
				b, err := st.Endpoint.FormatPayload(&req)
				if err != nil {
					if !yield(in, fmt.Errorf("conversation %q turn %d: %w", conv.ID, k, err)) {
						return
					}
					continue
				}
				in.Payloads = append(in.Payloads, b)
			}
			if !yield(in, nil) {
				return
			}
		}
	}
}

// apiErrors gives a response parser the endpoint layer's reading of non-2xx
// answers: the API's error JSON (message, type) instead of the raw body.
type apiErrors struct{ endpoint.Parser }

// firstTokenWatch tells the credit when the first content of a streamed
// answer (its first token) arrives, freeing its prefill slot.
type firstTokenWatch struct {
	apiErrors
	credit *timing.Credit
	seen   int // responses already looked at
}

// Message implements transport.Handler.
func (w *firstTokenWatch) Message(m *sse.Message, rec *record.Record) {
	w.apiErrors.Message(m, rec)
	if w.credit == nil {
		return
	}
	for ; w.seen < len(rec.Responses); w.seen++ {
		if rec.Responses[w.seen].Kind.IsContent() {
			w.credit.FirstToken()
			w.credit = nil
			return
		}
	}
}

// StatusError implements transport.StatusErrorHandler.
func (a apiErrors) StatusError(status int, reason string, body []byte, rec *record.Record) {
	d := endpoint.ErrorFromStatus(status, reason, body)
	rec.Error = &d
}
