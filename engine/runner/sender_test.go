package runner

import (
	"context"
	"fmt"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/loadstar/loadstar/engine/catalog"
	"github.com/loadstar/loadstar/engine/clock"
	"github.com/loadstar/loadstar/engine/config"
	"github.com/loadstar/loadstar/engine/plugin"
	"github.com/loadstar/loadstar/engine/record"
	"github.com/loadstar/loadstar/engine/timing"
	"github.com/loadstar/loadstar/internal/transport"
)

// stubClient answers every request at once with a fixed chat completion,
// stamping times on clk as the HTTP transport does, without a network.
type stubClient struct {
	clk  clock.Clock
	body []byte
	// seen, when set, is called with each request before it is answered.
	seen func(req *transport.Request, rec *record.Record)
}

func (c *stubClient) Do(ctx context.Context, req *transport.Request, h transport.Handler, rec *record.Record) {
	start := c.clk.Now()
	rec.StartNs, rec.StartWallNs = start, c.clk.Wall(start)
	if c.seen != nil {
		c.seen(req, rec)
	}
	if ctx.Err() != nil {
		rec.Cancelled = true
		rec.SetError(0, record.ErrCancelled, "cancelled: "+context.Cause(ctx).Error())
		rec.EndNs = start
		return
	}
	rec.SentNs, rec.Status = start, 200
	rec.HeadersNs, rec.FirstByteNs, rec.LastByteNs, rec.EndNs = start, start, start, start
	h.Body("application/json", c.body, start, rec)
}

func (c *stubClient) Close() error { return nil }

const stubChatAnswer = `{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"m",` +
	`"choices":[{"index":0,"message":{"role":"assistant","content":"one two three four five six seven eight"},` +
	`"finish_reason":"length"}],"usage":{"prompt_tokens":8,"completion_tokens":8,"total_tokens":16}}`

// sendLoop is a runner step's sender against a stubClient, with a consumer
// that hands every record back for reuse (as the metrics side does).
type sendLoop struct {
	st     *Step
	snd    *sender
	queue  *recordQueue
	client *stubClient
	clk    clock.Clock
	wg     sync.WaitGroup
	onRec  func(*record.Record)
}

func newSendLoop(tb testing.TB, turns int, onRec func(*record.Record)) *sendLoop {
	tb.Helper()
	reg, err := catalog.New()
	if err != nil {
		tb.Fatal(err)
	}
	cfg := config.Defaults()
	cfg.Endpoint = &plugin.Spec{Category: plugin.Endpoint, Name: "chat",
		Args: plugin.Args{"url": "http://127.0.0.1:9", "model": "m"}}
	cfg.Timing = concurrency(1)
	cfg.Seed, cfg.SeedSet = 42, true
	st, err := Plan(context.Background(), reg, &cfg, nil, WithDataset(prompts(100, turns)))
	if err != nil {
		tb.Fatal(err)
	}
	l := &sendLoop{st: st, queue: newRecordQueue(), clk: timing.NewClock(), onRec: onRec}
	l.client = &stubClient{clk: l.clk, body: []byte(stubChatAnswer)}
	l.snd = newSender(l.clk, st.Endpoint, st.Settings, l.client, l.queue, st.Dataset.Len())
	l.snd.setContext(context.Background())
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		l.queue.drain(func(batch []*record.Record) {
			for _, r := range batch {
				if l.onRec != nil {
					l.onRec(r)
				}
				l.queue.recycle(r)
			}
		})
	}()
	return l
}

// run sends n requests in a closed loop of concurrency c.
func (l *sendLoop) run(tb testing.TB, c, n int) *timing.Report {
	tb.Helper()
	sampler, err := l.st.newSampler()
	if err != nil {
		tb.Fatal(err)
	}
	env := l.st.env(sampler, config.Stop{Requests: n}, record.Profiling, l.snd)
	env.Clock, env.NewSessionID, env.ReuseSessions = l.clk, l.snd.ids.next, true
	strat, err := timing.NewConcurrency(c, nil)
	if err != nil {
		tb.Fatal(err)
	}
	rep, err := strat.Run(context.Background(), env)
	if err != nil {
		tb.Fatal(err)
	}
	return rep
}

func (l *sendLoop) close() {
	l.queue.close()
	l.wg.Wait()
}

// BenchmarkSendLoop measures the client's own work per request on the
// closed-loop path, without a network: the timing loop (session start,
// credit), the sender (ids, payload, headers, record) and the record queue,
// against a transport that answers at once and a consumer that only
// recycles the records. cpu-ns/op is the process's CPU time per request,
// which the waits for a core on a busy machine do not inflate as they do
// ns/op.
func BenchmarkSendLoop(b *testing.B) {
	for _, turns := range []int{1, 4} {
		b.Run(fmt.Sprintf("turns=%d", turns), func(b *testing.B) {
			l := newSendLoop(b, turns, nil)
			defer l.close()
			l.run(b, 4, 4096) // warm the record pool and the payload cache
			b.ReportAllocs()
			b.ResetTimer()
			cpu := processCPU()
			l.run(b, 4, max(b.N, 4))
			// CPU per request: on a shared machine the wall time per
			// request (ns/op) also counts the waits for a core.
			b.ReportMetric(float64(processCPU()-cpu)/float64(b.N), "cpu-ns/op")
		})
	}
}

// The ids handed out in chunks are the ids of their counters, formatted one
// by one, whatever the goroutines racing for them.
func TestIDsInChunksAreTheIDsOfTheirCounters(t *testing.T) {
	g := newIDGen()
	const workers, each = 8, 3 * idsPerChunk * 10
	got := make([][]string, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				got[w] = append(got[w], g.next())
			}
		}()
	}
	wg.Wait()
	want := map[string]bool{}
	for n := range uint64(workers * each) {
		var s [idLen]byte
		g.format(&s, n+1)
		want[string(s[:])] = true
	}
	seen := map[string]bool{}
	for _, ids := range got {
		for _, id := range ids {
			if !want[id] || seen[id] {
				t.Fatalf("id %q: not one of counters 1..%d, or handed out twice", id, workers*each)
			}
			seen[id] = true
		}
	}
	// One goroutine gets them in counter order.
	var first [idLen]byte
	g.format(&first, uint64(workers*each)+1)
	if id := g.next(); id != string(first[:]) {
		t.Errorf("next id %q, want %q", id, first)
	}
}

// The send loop reuses sessions, credits and its scratch: the records still
// carry what each request was (its own request id, its session's
// correlation id and number, the N-th session the N-th conversation), and
// a request allocates nothing of the runner's or the strategy's.
func TestSendLoopRecords(t *testing.T) {
	for _, turns := range []int{1, 3} {
		t.Run(fmt.Sprintf("turns=%d", turns), func(t *testing.T) {
			var mu sync.Mutex
			var recs []record.Record
			l := newSendLoop(t, turns, func(r *record.Record) {
				mu.Lock()
				recs = append(recs, *r)
				mu.Unlock()
			})
			const n = 600
			rep := l.run(t, 4, n)
			l.close()
			if rep.Issued != n || len(recs) != n {
				t.Fatalf("issued %d, %d records; want %d", rep.Issued, len(recs), n)
			}
			reqIDs := map[string]bool{}
			type session struct {
				conv string
				corr string
				seen int
			}
			sessions := map[int]*session{}
			corrs := map[string]int{}
			for _, r := range recs {
				if r.Error != nil || r.Status != 200 || len(r.Output) == 0 {
					t.Fatalf("record %+v: not the stub's answer", r)
				}
				if reqIDs[r.XRequestID] {
					t.Fatalf("request id %q on two records", r.XRequestID)
				}
				reqIDs[r.XRequestID] = true
				s := sessions[r.SessionNum]
				if s == nil {
					s = &session{conv: r.ConversationID, corr: r.XCorrelationID}
					sessions[r.SessionNum] = s
					if prev, dup := corrs[s.corr]; dup {
						t.Fatalf("sessions %d and %d share correlation id %q", prev, r.SessionNum, s.corr)
					}
					corrs[s.corr] = r.SessionNum
				}
				if r.ConversationID != s.conv || r.XCorrelationID != s.corr || r.NumTurns != turns {
					t.Errorf("session %d: record of conversation %s, id %s, %d turns; the session is %s, %s",
						r.SessionNum, r.ConversationID, r.XCorrelationID, r.NumTurns, s.conv, s.corr)
				}
				// The dataset is sampled sequentially: session N sends
				// conversation N mod 100.
				if want := fmt.Sprintf("conv-%d", r.SessionNum%100); r.ConversationID != want {
					t.Errorf("session %d sent %s, want %s", r.SessionNum, r.ConversationID, want)
				}
				s.seen++
			}
			// The request stop may cut the last sessions of the 4 slots.
			if len(sessions) < n/turns || len(sessions) > n/turns+4 {
				t.Errorf("%d sessions, want %d to %d", len(sessions), n/turns, n/turns+4)
			}
			for num := range len(sessions) {
				if sessions[num] == nil {
					t.Errorf("sessions not numbered 0..%d: %d missing", len(sessions)-1, num)
				}
			}
		})
	}
}

func TestSendLoopAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts under the race detector mean nothing")
	}
	l := newSendLoop(t, 1, nil)
	defer l.close()
	const n = 2000
	l.run(t, 4, n) // fill the pools
	// When the consumer falls behind (a busy machine), records beyond the
	// pool's are made, with their buffers; the pool keeps them for the
	// next try. And the count is the whole process's. The fewest of a few
	// tries is the loop's steady state.
	perRequest := math.Inf(1)
	for range 5 {
		perRequest = min(perRequest, testing.AllocsPerRun(3, func() { l.run(t, 4, n) })/n)
		if perRequest < 0.5 {
			break
		}
	}
	// The chat parser is kept from request to request (it is Reusable);
	// what is left (the phase's set-up, an id chunk per 64 ids) is well
	// under one allocation per request.
	if perRequest >= 0.5 {
		t.Errorf("%.2f allocations per request on the closed loop, want under 0.5", perRequest)
	}
}

// The transport stamps on the run's clock: under a PreciseClock, the
// clock.Real it embeds (same origin, same readings); other clocks as they
// are.
func TestTransportClock(t *testing.T) {
	pc := timing.NewClockSince(time.Hour)
	tc := transportClock(pc)
	if _, ok := tc.(*clock.Real); !ok {
		t.Fatalf("transport clock of a PreciseClock is %T, want *clock.Real", tc)
	}
	a, b, c := pc.Now(), tc.Now(), pc.Now()
	if b < a || b > c || a < int64(time.Hour) {
		t.Errorf("readings %d, %d, %d: not one clock", a, b, c)
	}
	if pc.Wall(a) != tc.Wall(a) {
		t.Errorf("wall of %d: %d and %d", a, pc.Wall(a), tc.Wall(a))
	}
	fake := clock.NewFake()
	if transportClock(fake) != clock.Clock(fake) {
		t.Error("a fake clock is not handed on as it is")
	}
}
