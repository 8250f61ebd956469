package mock

import (
	"math"
	"strings"
	"sync"
	"testing"
	"time"
)

// Timing tests measure from a real client on a possibly loaded 2-core
// machine: lower bounds are tight (the mock must never be early), upper
// bounds generous, counts small.

func TestStreamTiming(t *testing.T) {
	const ttft, itl = 120 * time.Millisecond, 30 * time.Millisecond
	srv := start(t, Config{TTFT: ttft, ITL: itl})
	times, frames := frameTimes(t, srv.URL()+"/v1/chat/completions",
		`{"model":"m","messages":[{"role":"user","content":"hi"}],"max_tokens":6,"stream":true}`)
	if len(frames) != 7 || frames[6] != "[DONE]" {
		t.Fatalf("got %d frames", len(frames))
	}
	if times[0] < ttft || times[0] > ttft+250*time.Millisecond {
		t.Fatalf("TTFT %v, want about %v", times[0], ttft)
	}
	// Token k is due at TTFT + k·ITL from arrival: absolute, no drift.
	last := times[5]
	if want := ttft + 5*itl; last < want-5*time.Millisecond || last > want+300*time.Millisecond {
		t.Fatalf("token 5 at %v, want about %v", last, want)
	}
	// Pacing: no token comes before its due time. A client (or server) that
	// wakes up late on a loaded machine reads several due tokens at once, so
	// the gaps it sees may be shorter than ITL: only lateness is load.
	for k := 1; k < 6; k++ {
		if due := ttft + time.Duration(k)*itl; times[k] < due-5*time.Millisecond {
			t.Fatalf("token %d at %v, before it is due at %v", k, times[k], due)
		}
	}
}

func TestNonStreamingTimingAndPrefill(t *testing.T) {
	srv := start(t, Config{TTFT: 60 * time.Millisecond, ITL: 20 * time.Millisecond, PrefillPerToken: time.Millisecond})
	// 100 input tokens of 4 characters: TTFT 60 + 100·1 ms; answer 4 tokens: +4·20 ms.
	prompt := strings.Repeat("abc ", 100)
	t0 := time.Now()
	_, body := post(t, srv.URL()+"/v1/completions", `{"model":"m","prompt":"`+prompt+`","max_tokens":4}`)
	took := time.Since(t0)
	if got := num(path(obj(t, string(body)), "usage", "prompt_tokens")); got != 100 {
		t.Fatalf("prompt_tokens %d, want 100", got)
	}
	if want := 240 * time.Millisecond; took < want || took > want+300*time.Millisecond {
		t.Fatalf("answer after %v, want TTFT + prefill + n·ITL = %v", took, want)
	}
}

func TestFastIsFast(t *testing.T) {
	srv := start(t, DefaultConfig(), WithFast())
	t0 := time.Now()
	for range 20 {
		post(t, srv.URL()+"/v1/chat/completions", `{"model":"m","messages":[{"role":"user","content":"hi"}],"max_tokens":50,"stream":true}`)
	}
	if took := time.Since(t0); took > 2*time.Second {
		t.Fatalf("20 fast streams took %v", took)
	}
}

// plannedFor plans a chat request as if `inflight` requests were running.
func plannedFor(t *testing.T, srv *Server, body string, inflight int64) *plan {
	t.Helper()
	p := &plan{s: srv, api: apiChat, start: time.Now()}
	p.in.reset()
	if err := p.in.parse(apiChat, []byte(body)); err != nil {
		t.Fatal(err)
	}
	p.rnd = rng{s: mix(uint64(srv.cfg.Seed), srv.seq.Add(1))}
	srv.plan(p, inflight)
	return p
}

func TestCapacityFormula(t *testing.T) {
	srv := start(t, Config{
		TTFT: 10 * time.Millisecond, ITL: 2 * time.Millisecond,
		PrefillPerToken: 100 * time.Microsecond, ITLPerOutputToken: 10 * time.Microsecond,
		TTFTQuad: 3 * time.Millisecond, ITLLin: time.Millisecond,
	})
	body := `{"model":"m","messages":[{"role":"user","content":"` + strings.Repeat("abcd", 50) + `"}],"max_tokens":20}`
	for _, inflight := range []int64{0, 1, 4, 10} {
		p := plannedFor(t, srv, body, inflight)
		f := time.Duration(inflight)
		wantTTFT := 10*time.Millisecond + 50*100*time.Microsecond + 3*time.Millisecond*f*f
		wantITL := 2*time.Millisecond + 20*10*time.Microsecond + time.Millisecond*f
		if p.ttft != wantTTFT || p.itl != wantITL {
			t.Errorf("inflight %d: TTFT %v ITL %v, want %v and %v", inflight, p.ttft, p.itl, wantTTFT, wantITL)
		}
		if p.bodyDelay() != wantTTFT+20*wantITL {
			t.Errorf("inflight %d: body delay %v, want TTFT + 20·ITL", inflight, p.bodyDelay())
		}
	}
}

func TestCapacityUnderLoad(t *testing.T) {
	// A long stream keeps one request in flight; a second request then
	// sees inflight = 1 and pays TTFTQuad·1².
	srv := start(t, Config{ITL: 20 * time.Millisecond, TTFTQuad: 200 * time.Millisecond})
	solo := time.Now()
	post(t, srv.URL()+"/v1/completions", `{"model":"m","prompt":"x","max_tokens":1}`)
	soloTook := time.Since(solo)
	var wg sync.WaitGroup
	wg.Go(func() {
		post(t, srv.URL()+"/v1/completions", `{"model":"m","prompt":"x","max_tokens":40,"stream":true}`)
	})
	waitFor(t, func() bool { return srv.Stats().InFlight == 1 }, "the long stream")
	t0 := time.Now()
	post(t, srv.URL()+"/v1/completions", `{"model":"m","prompt":"x","max_tokens":1}`)
	loaded := time.Since(t0)
	wg.Wait()
	if soloTook > 150*time.Millisecond || loaded < 200*time.Millisecond {
		t.Fatalf("alone %v, with one request in flight %v; want the second to pay 200 ms of TTFTQuad", soloTook, loaded)
	}
	if st := srv.Stats(); st.MaxInFlight != 2 || st.InFlight != 0 {
		t.Fatalf("stats in flight %d max %d", st.InFlight, st.MaxInFlight)
	}
}

func TestJitter(t *testing.T) {
	draw := func() []time.Duration {
		srv := start(t, Config{TTFT: 100 * time.Millisecond, ITL: 10 * time.Millisecond, Jitter: 0.3, Seed: 3})
		var out []time.Duration
		for range 400 {
			out = append(out, plannedFor(t, srv, `{"model":"m","messages":[{"role":"user","content":"x"}],"max_tokens":1}`, 0).ttft)
		}
		return out
	}
	a, b := draw(), draw()
	var sum float64
	distinct := map[time.Duration]bool{}
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("draw %d: %v then %v; jitter must follow the seed", i, a[i], b[i])
		}
		sum += float64(a[i])
		distinct[a[i]] = true
	}
	if mean := sum / float64(len(a)); math.Abs(mean/float64(100*time.Millisecond)-1) > 0.06 || len(distinct) < 300 {
		t.Fatalf("mean jittered TTFT %v (want about 100ms), %d distinct values", time.Duration(mean), len(distinct))
	}
}
