package runner

import (
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/loadstar/loadstar/engine/config"
	"github.com/loadstar/loadstar/engine/dataset"
	"github.com/loadstar/loadstar/engine/errext"
	"github.com/loadstar/loadstar/engine/mock"
	"github.com/loadstar/loadstar/engine/plugin"
	"github.com/loadstar/loadstar/engine/record"
)

// closedPort returns a 127.0.0.1 address nothing listens on.
func closedPort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return addr
}

// A run against a closed port stops after its first requests all failed to
// connect, instead of running its whole hour at 100 % errors.
func TestRunAbortsWhenUnreachable(t *testing.T) {
	h := newHarness(t, fastMock())
	cfg := h.bench(true, concurrency(4), config.Stop{Duration: time.Hour})
	cfg.Endpoint.Args["url"] = "http://" + closedPort(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	sum := h.run(ctx, cfg, prompts(4, 1))
	if ctx.Err() != nil {
		t.Fatal("the run went on until the test's timeout")
	}
	if !strings.Contains(sum.Info.Aborted, "the first 10 requests all failed to connect") ||
		!strings.Contains(sum.Info.Aborted, "connection refused") || !sum.Info.WasCancelled {
		t.Fatalf("aborted %q, was_cancelled %t", sum.Info.Aborted, sum.Info.WasCancelled)
	}
	if !strings.Contains(strings.Join(sum.Info.Warnings, "\n"), "run aborted: the first 10 requests") {
		t.Errorf("warnings %q lack the abort", sum.Info.Warnings)
	}
	h.checkBalance(sum)

	// abort_unreachable = False keeps sending until the stop condition.
	cfg = h.bench(true, concurrency(4), config.Stop{Requests: 30})
	cfg.Endpoint.Args["url"] = "http://" + closedPort(t)
	cfg.Abort.Unreachable = false
	sum = h.run(context.Background(), cfg, prompts(4, 1))
	if sum.Info.Aborted != "" || sum.Info.Issued != 30 {
		t.Fatalf("aborted %q after %d requests with abort_unreachable off", sum.Info.Aborted, sum.Info.Issued)
	}
}

// A server that answers some requests is not unreachable, however many
// others fail to connect.
func TestRunNotAbortedWhenSomeSucceed(t *testing.T) {
	h := newHarness(t, fastMock())
	cfg := h.bench(false, concurrency(1), config.Stop{Requests: 20})
	cfg.Endpoint.Args["url"] = []string{h.srv.URL(), "http://" + closedPort(t)}
	sum := h.run(context.Background(), cfg, prompts(4, 1))
	if sum.Info.Aborted != "" || sum.Info.Issued != 20 {
		t.Fatalf("aborted %q after %d requests", sum.Info.Aborted, sum.Info.Issued)
	}
}

// AIPerf's --failed-request-threshold: the run aborts once more than the
// ratio of its profiling requests failed, from the max(concurrency, 10)th
// finished one on; below the ratio it runs to its end.
func TestRunFailedRequestThreshold(t *testing.T) {
	h := newHarness(t, fastMock())
	// Every other conversation asks for a 500.
	half := func() dataset.Dataset {
		ok, bad := prompts(2, 1), faulty(mock.FaultServerError, 2)
		return dataset.NewSet([]dataset.Conversation{*ok.Conversation(0), *bad.Conversation(0)}, dataset.Info{Sampler: dataset.Sequential})
	}
	for _, c := range []struct {
		threshold float64
		aborted   bool
	}{{0.3, true}, {0.6, false}} {
		t.Run(fmt.Sprint(c.threshold), func(t *testing.T) {
			h.t = t
			cfg := h.bench(false, concurrency(2), config.Stop{Requests: 200})
			cfg.Abort.FailedRequestThreshold = &c.threshold
			sum := h.run(context.Background(), cfg, half())
			if !c.aborted {
				if sum.Info.Aborted != "" || sum.Info.Issued != 200 {
					t.Fatalf("aborted %q after %d requests at 50%% failures under threshold %g", sum.Info.Aborted, sum.Info.Issued, c.threshold)
				}
				return
			}
			if !strings.Contains(sum.Info.Aborted, "more than failed_request_threshold 0.3") {
				t.Fatalf("aborted %q", sum.Info.Aborted)
			}
			if sum.Info.Issued >= 200 || sum.Info.Issued < 10 {
				t.Errorf("%d requests sent: the abort must come after 10 and stop sending", sum.Info.Issued)
			}
			h.checkBalance(sum)
		})
	}
}

// The warmup's failures do not count toward failed_request_threshold.
func TestFailedRequestThresholdProfilingOnly(t *testing.T) {
	h := newHarness(t, fastMock())
	cfg := h.bench(false, concurrency(1), config.Stop{Requests: 12})
	cfg.Warmup = &config.Warmup{Stop: config.Stop{Requests: 20}}
	zero := 0.0
	cfg.Abort.FailedRequestThreshold = &zero
	ds := prompts(2, 1)
	sum := h.run(context.Background(), cfg, ds)
	if sum.Info.Aborted != "" {
		t.Fatalf("aborted: %s", sum.Info.Aborted)
	}
}

// wait_for_model: the run waits for a server that comes up late, and stops
// with exit code 13 when it never does.
func TestWaitForModel(t *testing.T) {
	h := newHarness(t, fastMock())
	addr := closedPort(t)
	for _, mode := range []string{config.WaitInference, config.WaitModels, config.WaitBoth} {
		t.Run(mode, func(t *testing.T) {
			h.t = t
			// A proxy that refuses connections for 600 ms, then forwards to the mock.
			late := startLateProxy(t, addr, strings.TrimPrefix(h.srv.URL(), "http://"), 600*time.Millisecond)
			cfg := h.bench(false, concurrency(1), config.Stop{Requests: 3})
			cfg.Endpoint.Args["url"] = "http://" + late
			cfg.WaitForModel = config.WaitForModel{Timeout: 20 * time.Second, Mode: mode, Interval: 100 * time.Millisecond}
			sum := h.run(context.Background(), cfg, prompts(2, 1))
			if sum.Info.Aborted != "" {
				t.Fatal(sum.Info.Aborted)
			}
			ok, _, _ := h.checkBalance(sum)
			if ok != 3 {
				t.Fatalf("%d of 3 requests succeeded after waiting for the server", ok)
			}
		})
	}
	cfg := h.bench(false, concurrency(1), config.Stop{Requests: 3})
	cfg.Endpoint.Args["url"] = "http://" + closedPort(t)
	cfg.WaitForModel = config.WaitForModel{Timeout: 500 * time.Millisecond, Mode: config.WaitInference, Interval: 100 * time.Millisecond}
	_, err := Run(context.Background(), h.reg, cfg, nil, WithDataset(prompts(2, 1)))
	if errext.ExitCodeOf(err) != errext.RunAborted || !strings.Contains(fmt.Sprint(err), "not ready within wait_for_model's timeout 500ms") ||
		!strings.Contains(fmt.Sprint(err), "connection refused") {
		t.Fatalf("err %v (code %d), want exit code 13 naming the timeout and the last failure", err, errext.ExitCodeOf(err))
	}
	// models mode checks the model is listed.
	cfg = h.bench(false, concurrency(1), config.Stop{Requests: 3})
	cfg.Endpoint.Args["model"] = "no-such-model"
	cfg.WaitForModel = config.WaitForModel{Timeout: 300 * time.Millisecond, Mode: config.WaitModels, Interval: 100 * time.Millisecond}
	_, err = Run(context.Background(), h.reg, cfg, nil, WithDataset(prompts(2, 1)))
	if errext.ExitCodeOf(err) != errext.RunAborted || !strings.Contains(fmt.Sprint(err), "does not list model no-such-model") {
		t.Fatalf("err %v", err)
	}
}

// startLateProxy listens on addr after delay and forwards every connection
// to target.
func startLateProxy(t *testing.T, addr, target string, delay time.Duration) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr = ln.Addr().String()
	_ = ln.Close()
	done := make(chan struct{})
	t.Cleanup(func() { close(done) })
	go func() {
		select {
		case <-time.After(delay):
		case <-done:
			return
		}
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return
		}
		go func() { <-done; _ = ln.Close() }()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				s, err := net.Dial("tcp", target)
				if err != nil {
					return
				}
				defer s.Close()
				go func() { _, _ = copyConn(s, c) }()
				_, _ = copyConn(c, s)
			}()
		}
	}()
	return addr
}

func copyConn(dst, src net.Conn) (int64, error) {
	var n int64
	buf := make([]byte, 32<<10)
	for {
		k, err := src.Read(buf)
		if k > 0 {
			if _, werr := dst.Write(buf[:k]); werr != nil {
				return n, werr
			}
			n += int64(k)
		}
		if err != nil {
			return n, err
		}
	}
}

// A concurrency the machine cannot hold is refused before anything is
// composed or sent, naming the limit and how to raise it.
func TestConcurrencyLimits(t *testing.T) {
	h := newHarness(t, fastMock())
	m := &machine{files: 20000, hardFiles: 1 << 20, memory: 8 << 30}
	cases := []struct {
		conc int64
		want string
	}{
		{1_000_000_000, "concurrency 1000000000 needs up to 1000000000 connections, but this process may open at most 20000 files (ulimit -n); the hard limit is 1048576"},
		{19_000, ""},
		{19_990, "raise it with `ulimit -n 20054`"},
	}
	for _, c := range cases {
		cfg := h.bench(false, concurrency(int(c.conc)), config.Stop{Duration: time.Second})
		_, err := Plan(context.Background(), h.reg, cfg, nil, func(o *options) { o.host = m }, WithDataset(prompts(1, 1)))
		if c.want == "" {
			if err != nil {
				t.Errorf("concurrency %d: %v", c.conc, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), c.want) || errext.ExitCodeOf(err) != errext.InvalidConfig {
			t.Errorf("concurrency %d: err %v, want one containing %q (exit code 4)", c.conc, err, c.want)
		}
	}
	// Memory: 100,000 requests in flight do not fit in 1 GiB.
	m = &machine{files: 1 << 30, memory: 1 << 30}
	cfg := h.bench(false, concurrency(100_000), config.Stop{Duration: time.Second})
	_, err := Plan(context.Background(), h.reg, cfg, nil, func(o *options) { o.host = m }, WithDataset(prompts(1, 1)))
	if err == nil || !strings.Contains(err.Error(), "concurrency 100000 needs about 6.1 GiB of memory (about 64 KiB per request in flight), more than the 1.0 GiB available") {
		t.Errorf("err %v", err)
	}
	// max_connections caps the connections, not the memory; a rate's
	// max_concurrency is checked like a concurrency.
	m = &machine{files: 20000, memory: 64 << 30}
	cfg = h.bench(false, spec(plugin.TimingStrategy, "request_rate", "rate", 10.0, "max_concurrency", int64(50_000)), config.Stop{Duration: time.Second})
	if _, err := Plan(context.Background(), h.reg, cfg, nil, func(o *options) { o.host = m }, WithDataset(prompts(1, 1))); err == nil {
		t.Error("max_concurrency 50000 with 20000 files: no error")
	}
	cfg.Transport = spec(plugin.Transport, "http", "max_connections", int64(1000))
	if _, err := Plan(context.Background(), h.reg, cfg, nil, func(o *options) { o.host = m }, WithDataset(prompts(1, 1))); err != nil {
		t.Errorf("max_connections 1000: %v", err)
	}
}

var _ = record.Profiling
