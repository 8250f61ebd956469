package mock

import (
	"errors"
	"math"
	"strings"
	"time"

	"github.com/valyala/fasthttp"
)

// plan is one inference request's answer, decided before anything is sent:
// its tokens, finish reason, latencies and fault. Plans are pooled.
type plan struct {
	s       *Server
	api     api
	in      input
	start   time.Time // arrival; the schedule is relative to it
	rnd     rng       // per-request stream: fault draw, jitter, ids
	id      [24]byte  // hex
	created int64

	modelJSON    []byte // the model name, JSON-quoted
	promptTokens int
	reasoning    int      // toks[:reasoning] are reasoning tokens
	toks         []uint16 // reasoning then content tokens (vocab indices)
	finish       string   // "stop" or "length"
	fault        Fault

	ttft time.Duration
	itl  time.Duration // before jitter

	// The engine model's view (engine.go): arrival before any queueing,
	// time waited for admission, tokens written and ITLs observed.
	arrival  time.Time
	waited   time.Duration
	admitted bool
	emitted  int
	itlSeen  int
	firstTok time.Time   // when the first token went out (paced streams)
	run      engineEntry // while admitted

	evSeq int        // Responses API sequence_number
	buf   []byte     // frame and body scratch
	aux   []byte     // malformed-frame scratch
	out   []byte     // a whole batched stream
	body  streamBody // out as a fasthttp body stream
}

// stream reports whether the answer is streamed: the API's parse sets it
// from the request (or always, for TGI's streaming path).
func (p *plan) stream() bool { return p.in.stream }

// n is the number of token frames (images: image events).
func (p *plan) n() int { return len(p.toks) }

func (p *plan) content() []uint16 { return p.toks[p.reasoning:] }

// serveInference answers a POST to an inference path.
func (s *Server) serveInference(ctx *fasthttp.RequestCtx, a api, start time.Time) {
	inflight := s.inflight.Add(1) - 1 // requests already in flight at arrival
	for {
		m := s.maxInflight.Load()
		if inflight+1 <= m || s.maxInflight.CompareAndSwap(m, inflight+1) {
			break
		}
	}
	p := s.plans.Get().(*plan)
	p.api, p.start, p.arrival = a, start, start
	p.waited, p.admitted, p.emitted, p.itlSeen, p.firstTok = 0, false, 0, 0, time.Time{}
	p.in.reset()
	p.in.contentType = string(ctx.Request.Header.ContentType())
	if err := p.in.parse(a, ctx.PostBody()); err != nil {
		var br *badRequest
		if errors.As(err, &br) {
			s.errorReply(ctx, a, fasthttp.StatusBadRequest, "invalid_request_error", br.msg)
		} else {
			s.errorReply(ctx, a, fasthttp.StatusInternalServerError, "server_error", err.Error())
		}
		s.stats.status(ctx.Response.StatusCode())
		s.finish(p)
		return
	}
	seq := s.seq.Add(1) - 1
	p.rnd = rng{s: mix(uint64(s.cfg.Seed), seq)}
	p.fault = s.drawFault(&p.rnd)
	if h := ctx.Request.Header.Peek(FaultHeader); len(h) > 0 {
		f, err := ParseFault(string(h))
		if err != nil {
			s.errorReply(ctx, a, fasthttp.StatusBadRequest, "invalid_request_error", "header "+FaultHeader+": "+err.Error())
			s.stats.status(ctx.Response.StatusCode())
			s.finish(p)
			return
		}
		p.fault = f
	}
	s.plan(p, inflight)
	if p.fault != FaultNone {
		s.stats.fault(p.fault)
	}
	if p.fault != FaultServerError && p.fault != FaultRateLimit { // those are answered at once
		p.waited = s.engine.admit(p, s.done)
		p.start = p.start.Add(p.waited) // its schedule starts when it runs
		p.admitted = true
	}
	s.deliver(ctx, p)
}

// finish ends a request's life: in-flight count, pooling.
func (s *Server) finish(p *plan) {
	if p.admitted {
		s.engine.done(p, time.Now())
		p.admitted = false
	}
	s.inflight.Add(-1)
	if cap(p.buf) > 4<<20 || cap(p.out) > 4<<20 { // don't pool oversized-fault buffers
		p.buf, p.out = nil, nil
	}
	s.plans.Put(p)
}

// drawFault picks at most one fault with one uniform draw.
func (s *Server) drawFault(r *rng) Fault {
	u := r.float()
	acc := 0.0
	for _, f := range Faults {
		rate := s.cfg.Faults.Rate(f)
		if rate == 0 {
			continue
		}
		acc += rate
		if u < acc {
			return f
		}
	}
	return FaultNone
}

const hexDigits = "0123456789abcdef"

// plan decides the answer: model, ids, token counts, text and latencies.
func (s *Server) plan(p *plan, inflight int64) {
	cfg := &s.cfg
	in := &p.in
	if in.model == "" {
		in.model = cfg.Models[0]
	} else {
		s.sawModel(in.model)
	}
	p.modelJSON = appendJSONString(p.modelJSON[:0], in.model)
	x := p.rnd.next()
	y := p.rnd.next()
	for i := range 12 {
		p.id[i] = hexDigits[(x>>(4*i))&15]
		p.id[12+i] = hexDigits[(y>>(4*i))&15]
	}
	p.created = p.start.Unix()
	p.evSeq = 0

	// Input tokens.
	p.promptTokens = 0
	if len(in.text) > 0 {
		if cfg.InputTokenizer != nil {
			p.promptTokens = cfg.InputTokenizer.Count(string(in.text))
		} else {
			p.promptTokens = countChars(string(in.text))
		}
	}
	if in.promptTokens > 0 {
		p.promptTokens += in.promptTokens
	}

	// Output tokens.
	p.toks = p.toks[:0]
	p.reasoning = 0
	p.finish = "stop"
	textSeed := mix(uint64(cfg.Seed), fnv64(in.text))
	output := apis[p.api].output
	switch output {
	case outputNone:
	case outputImages:
		for range in.n * (in.partialImages + 1) {
			p.toks = append(p.toks, 0)
		}
	default:
		total, finish := s.outputLength(p, textSeed)
		p.finish = finish
		if s.isReasoning(p) {
			p.reasoning = min(s.reasoningBudget(p), total/2)
		}
		p.toks = genTokens(p.toks, p.reasoning, mix(textSeed, 1))
		p.toks = genTokens(p.toks, total-p.reasoning, mix(textSeed, 2))
	}
	s.stats.promptTokens.Add(int64(p.promptTokens))
	if output == outputImages {
		s.stats.completionTokens.Add(int64(in.n * imageTokens))
	} else {
		s.stats.completionTokens.Add(int64(len(p.toks)))
	}

	// Latencies.
	fi := float64(inflight)
	ttft := float64(cfg.TTFT) + float64(cfg.PrefillPerToken)*float64(p.promptTokens) + float64(cfg.TTFTQuad)*fi*fi
	p.ttft = time.Duration(ttft * s.jitter(&p.rnd))
	p.itl = time.Duration(float64(cfg.ITL) + float64(cfg.ITLPerOutputToken)*float64(len(p.toks)) + float64(cfg.ITLLin)*fi)
}

// jitter draws the lognormal factor exp(σZ − σ²/2), whose mean is 1.
func (s *Server) jitter(r *rng) float64 {
	sg := s.cfg.Jitter
	if sg == 0 {
		return 1
	}
	return math.Exp(sg*r.norm() - sg*sg/2)
}

// nextITL is the jittered delay before the next token.
func (p *plan) nextITL() time.Duration {
	if p.itl == 0 {
		return 0
	}
	d := time.Duration(float64(p.itl) * p.s.jitter(&p.rnd))
	if p.itlSeen < p.n()-1 { // the engine sees n-1 gaps, as vLLM does
		p.itlSeen++
		p.s.engine.itl.observe(d.Seconds(), 1)
	}
	return d
}

// outputLength applies the output rule to the request's maximum.
func (s *Server) outputLength(p *plan, seed uint64) (int, string) {
	in := &p.in
	if s.cfg.OutputRule == OutputAIPerf {
		isl := p.promptTokens
		maxBudget := max(2*isl, 16)
		if in.maxTokens >= 0 {
			maxBudget = in.maxTokens
		}
		minBudget := min(max(1, int(0.8*float64(isl))), maxBudget)
		if in.minTokens >= 0 {
			minBudget = min(in.minTokens, maxBudget)
		}
		if in.ignoreEOS {
			return maxBudget, "length"
		}
		targetMax := maxBudget
		if in.maxTokens < 0 && in.minTokens < 0 {
			targetMax = max(min(int(1.2*float64(isl)), maxBudget), minBudget)
		}
		r := rng{s: seed}
		n := minBudget + int(r.next()%uint64(targetMax-minBudget+1))
		if n == maxBudget {
			return n, "length"
		}
		return n, "stop"
	}
	if in.maxTokens >= 0 {
		n := in.maxTokens
		return n, "length"
	}
	n := max(s.cfg.DefaultOutputTokens, in.minTokens)
	if in.ignoreEOS {
		return n, "length"
	}
	return n, "stop"
}

// isReasoning tells whether the answer starts with reasoning tokens.
func (s *Server) isReasoning(p *plan) bool {
	if !apis[p.api].reasoning {
		return false
	}
	if p.in.thinking { // Anthropic's thinking, asked for explicitly
		return true
	}
	if p.in.effort == "none" {
		return false
	}
	m := strings.ToLower(p.in.model)
	for _, sub := range s.cfg.ReasoningModels {
		if sub != "" && strings.Contains(m, strings.ToLower(sub)) {
			return true
		}
	}
	return false
}

// reasoningBudget is the reasoning length before the half-budget cap.
func (s *Server) reasoningBudget(p *plan) int {
	if s.cfg.ReasoningTokens > 0 {
		return s.cfg.ReasoningTokens
	}
	if p.in.thinkingBudget >= 0 {
		return p.in.thinkingBudget
	}
	switch p.in.effort {
	case "minimal":
		return 50
	case "low":
		return 100
	case "high":
		return 500
	}
	return 250
}

func (s *Server) sawModel(m string) {
	if _, ok := s.seenModels.Load(m); ok { // lock-free on the hot path
		return
	}
	s.modelsMu.Lock()
	defer s.modelsMu.Unlock()
	for _, k := range s.models {
		if k == m {
			return
		}
	}
	if len(s.models) < 1000 {
		s.models = append(s.models, m)
		s.seenModels.Store(m, true)
	}
}
