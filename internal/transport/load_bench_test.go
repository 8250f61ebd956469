//go:build bench

package transport

// Load tools for .ci/bench/transport-wrk.sh, built with -tags bench:
//
//	go test -c -tags bench -o transport.test ./internal/transport
//	taskset -c 0 ./transport.test -test.run '^TestServeFast$' -load.addr 127.0.0.1:18080 -load.d 60s &
//	taskset -c 1 ./transport.test -test.run '^TestDriveLoad$' -load.url http://127.0.0.1:18080/v1/chat/completions -load.c 64 -load.d 10s

import (
	"context"
	"flag"
	"fmt"
	"net"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/loadstar/loadstar/engine/clock"
	"github.com/loadstar/loadstar/engine/record"
	"github.com/valyala/fasthttp"
)

var (
	loadAddr = flag.String("load.addr", "127.0.0.1:18080", "TestServeFast: listen address")
	loadURL  = flag.String("load.url", "", "TestDriveLoad: URL to POST to")
	loadBody = flag.String("load.body", `{"model":"m","messages":[{"role":"user","content":"hi"}],"max_tokens":16}`, "TestDriveLoad: request body")
	loadC    = flag.Int("load.c", 64, "TestDriveLoad: concurrency (closed loop)")
	loadD    = flag.Duration("load.d", 10*time.Second, "how long to drive load (TestDriveLoad) or serve (TestServeFast)")
)

// fastReply is a short non-streaming chat completion.
const fastReply = `{"id":"chatcmpl-1","object":"chat.completion","created":1767225600,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"hello"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}`

// TestServeFast serves fastReply on -load.addr for -load.d: the stand-in
// fast server used until `loadstar mock --fast` exists.
func TestServeFast(t *testing.T) {
	ln, err := net.Listen("tcp", *loadAddr)
	if err != nil {
		t.Fatal(err)
	}
	srv := &fasthttp.Server{
		Handler: func(ctx *fasthttp.RequestCtx) {
			ctx.SetContentType("application/json")
			ctx.SetBodyString(fastReply)
		},
		NoDefaultServerHeader: true,
		NoDefaultDate:         true,
		Concurrency:           1 << 20,
	}
	go func() { time.Sleep(*loadD); _ = srv.Shutdown() }()
	fmt.Printf("serving on http://%s for %s\n", ln.Addr(), *loadD)
	_ = srv.Serve(ln)
}

// TestDriveLoad runs -load.c closed-loop workers against -load.url for
// -load.d through the transport, as the concurrency timing strategy does,
// and prints the achieved request rate.
func TestDriveLoad(t *testing.T) {
	if *loadURL == "" {
		t.Skip("-load.url not given")
	}
	clk := clock.New()
	cl, err := New(clk, DefaultConfig(), *loadC)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	req := &Request{URL: *loadURL, Body: []byte(*loadBody)}
	var (
		done, failed atomic.Int64
		wg           sync.WaitGroup
		firstErr     atomic.Pointer[record.ErrorDetails]
		lat          = make([][]int64, *loadC)
	)
	ctx, cancel := context.WithTimeout(context.Background(), *loadD)
	defer cancel()
	start := time.Now()
	for w := range *loadC {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rec := record.New()
			h := &nopHandler{}
			ls := make([]int64, 0, 1<<16)
			for ctx.Err() == nil {
				rec.Reset()
				cl.Do(context.Background(), req, h, rec)
				if rec.Error != nil {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, rec.Error)
					continue
				}
				done.Add(1)
				ls = append(ls, rec.EndNs-rec.StartNs)
			}
			lat[w] = ls
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	var all []int64
	for _, ls := range lat {
		all = append(all, ls...)
	}
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	pct := func(p float64) time.Duration {
		if len(all) == 0 {
			return 0
		}
		return time.Duration(all[int(p*float64(len(all)-1))])
	}
	fmt.Printf("loadstar transport: %.0f req/s (%d ok, %d errors, c=%d, %s, p50 %s, p99 %s, %d connections)\n",
		float64(done.Load())/elapsed.Seconds(), done.Load(), failed.Load(), *loadC, elapsed.Round(time.Millisecond),
		pct(0.50), pct(0.99), cl.Stats().Dials)
	if e := firstErr.Load(); e != nil {
		t.Errorf("first error: %+v", *e)
	}
}
