package collector

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func newTestServer(t *testing.T, shards int, opts ...Option) (*Server, *Client) {
	t.Helper()
	s, err := NewServer(shards, t.TempDir(), append([]Option{WithMargin(50 * time.Millisecond)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(s.Handler())
	t.Cleanup(hs.Close)
	c, err := NewClient(hs.URL)
	if err != nil {
		t.Fatal(err)
	}
	c.Poll = 5 * time.Millisecond
	return s, c
}

func TestBarrierStartsEveryShardTogether(t *testing.T) {
	s, c := newTestServer(t, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	starts := make([]Start, 3)
	var wg sync.WaitGroup
	for i := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			time.Sleep(time.Duration(i) * 20 * time.Millisecond) // arrive one by one
			st, err := c.Barrier(ctx, i, 0, Offset{})
			if err != nil {
				t.Error(err)
			}
			starts[i] = st
		}()
	}
	wg.Wait()
	for i, st := range starts {
		if !st.At.Equal(starts[0].At) || st.RunKey != s.RunKey() || st.Late {
			t.Errorf("shard %d got %+v, shard 0 %+v (run key %x)", i, st, starts[0], s.RunKey())
		}
	}
	// A retried shard reaching the step after it started is told so.
	time.Sleep(60 * time.Millisecond)
	st, err := c.Barrier(ctx, 1, 0, Offset{})
	if err != nil {
		t.Fatal(err)
	}
	if st.Late || !st.At.Equal(starts[0].At) {
		t.Errorf("a shard already counted asking again got %+v, want the step's start", st)
	}
	status := s.Status()
	if len(status.Steps) != 1 || len(status.Steps[0].Arrived) != 3 {
		t.Errorf("status = %+v", status)
	}
}

func TestBarrierLateShard(t *testing.T) {
	s, c := newTestServer(t, 2)
	ctx := context.Background()
	s.arrive(0, 4)
	s.arrive(1, 4)
	// Shard 1 is retried on another pod: the collector has it already, so
	// the retry gets the common start; a shard the collector never saw but
	// arriving late (impossible here) would get its own.
	rep := s.arrive(1, 4)
	if !rep.Ready || rep.Late {
		t.Errorf("repeat arrival: %+v", rep)
	}
	// Step 5 has only shard 0: the barrier waits until its context ends,
	// and says how many shards arrived.
	wctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	st, err := c.Barrier(wctx, 0, 5, Offset{Offset: time.Second})
	if err == nil || !strings.Contains(err.Error(), "1 of 2 arrived") {
		t.Fatalf("barrier of step 5 with one shard: %+v, %v", st, err)
	}
}

func TestBarrierOffsetMapsToLocalClock(t *testing.T) {
	collectorNow := time.Unix(1_000_000, 0)
	_, c := newTestServer(t, 1, WithClock(func() time.Time { return collectorNow }))
	st, err := c.Barrier(context.Background(), 0, 0, Offset{Offset: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if want := collectorNow.Add(50 * time.Millisecond).Add(2 * time.Second); !st.At.Equal(want) {
		t.Errorf("start %s, want the collector's start plus the offset %s", st.At, want)
	}
	off, err := c.ClockOffset(context.Background(), 3)
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(collectorNow) - off.Offset; d < -time.Second || d > time.Second || off.Error < 0 {
		t.Errorf("offset %+v against a collector clock %s behind", off, time.Since(collectorNow).Round(time.Second))
	}
}

func TestUploadListFetch(t *testing.T) {
	s, c := newTestServer(t, 2)
	ctx := context.Background()
	src := t.TempDir()
	must(t, os.MkdirAll(filepath.Join(src, "step", "plots"), 0o755))
	must(t, os.WriteFile(filepath.Join(src, "step", "a.json"), []byte(`{"x":1}`), 0o644))
	must(t, os.WriteFile(filepath.Join(src, "step", "plots", "p.txt"), []byte("plot"), 0o644))
	for _, pod := range []string{"job-1-aaaaa", "job-1-bbbbb"} {
		if _, err := c.Upload(ctx, 1, pod, []Dir{{Name: "run/step", Path: filepath.Join(src, "step")}}); err != nil {
			t.Fatal(err)
		}
	}
	st, err := StatusOf(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Uploads) != 2 || st.Uploads[0].Pod != "job-1-aaaaa" || st.Uploads[1].Shard != 1 || st.Uploads[0].SHA256 == "" {
		t.Fatalf("uploads = %+v", st.Uploads)
	}
	dst := t.TempDir()
	if err := Fetch(ctx, c, st.Uploads[1], dst); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(dst, "run", "step", "plots", "p.txt"))
	if err != nil || string(got) != "plot" {
		t.Errorf("fetched file = %q, %v", got, err)
	}
	if _, err := c.Upload(ctx, 2, "x", nil); err == nil || !strings.Contains(err.Error(), "want an index in 0..1") {
		t.Errorf("upload for shard 2 of 2: %v", err)
	}
	req := httptest.NewRequest(http.MethodPut, "/shards/0?pod=../../etc", bytes.NewReader(nil))
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, req)
	if rec.Code != http.StatusBadRequest {
		t.Errorf("a pod name with slashes: status %d", rec.Code)
	}
	bad := Upload{Shard: 1, Pod: "job-1-aaaaa", SHA256: strings.Repeat("0", 64)}
	if err := Fetch(ctx, c, bad, t.TempDir()); err == nil || !strings.Contains(err.Error(), "sha256") {
		t.Errorf("a digest mismatch: %v", err)
	}
}

func TestUnpackRefusesEscapes(t *testing.T) {
	var buf bytes.Buffer
	err := Pack(&buf, []Dir{{Name: "../x", Path: t.TempDir()}})
	if err == nil {
		t.Fatal("packing under ../x worked")
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
