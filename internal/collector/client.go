package collector

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

// Getter fetches a path of the collector's API: over HTTP from inside the
// cluster (Client), or through the Kubernetes API server's service proxy
// from outside it (internal/kube).
type Getter interface {
	Get(ctx context.Context, path string) (io.ReadCloser, error)
}

// Client talks to a collector over HTTP (from a shard).
type Client struct {
	base string
	http *http.Client
	// Poll is how often Barrier asks whether the step starts.
	Poll time.Duration
}

// NewClient returns a client of the collector at base (http://host:port).
func NewClient(base string) (*Client, error) {
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("collector %q: want an http:// URL", base)
	}
	return &Client{base: strings.TrimSuffix(base, "/"), http: &http.Client{Timeout: 30 * time.Second}, Poll: 100 * time.Millisecond}, nil
}

// URL is the collector's address.
func (c *Client) URL() string { return c.base }

// Get implements Getter.
func (c *Client) Get(ctx context.Context, path string) (io.ReadCloser, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+path, nil)
	if err != nil {
		return nil, err
	}
	return c.do(req)
}

func (c *Client) do(req *http.Request) (io.ReadCloser, error) {
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("collector: %w", err)
	}
	if resp.StatusCode/100 != 2 {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		resp.Body.Close()
		return nil, &statusError{code: resp.StatusCode, msg: fmt.Sprintf("collector: %s %s: %s: %s", req.Method, req.URL.Path, resp.Status, strings.TrimSpace(string(msg)))}
	}
	return resp.Body, nil
}

func (c *Client) getJSON(ctx context.Context, method, path string, v any) error {
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, nil)
	if err != nil {
		return err
	}
	body, err := c.do(req)
	if err != nil {
		return err
	}
	defer body.Close()
	return json.NewDecoder(body).Decode(v)
}

// Offset is an estimate of the local clock against the collector's.
type Offset struct {
	// Offset is local − collector; Error bounds it (half the round trip of
	// the probe it comes from).
	Offset, Error time.Duration
}

// ClockOffset estimates the local clock's offset from the collector's the
// way NTP does: of probes round trips, the one with the shortest round
// trip, assuming the server read its clock half-way.
func (c *Client) ClockOffset(ctx context.Context, probes int) (Offset, error) {
	best := Offset{Error: -1}
	for range max(probes, 1) {
		var t struct {
			UnixNano int64 `json:"unix_nano"`
		}
		t0 := time.Now()
		if err := c.getJSON(ctx, http.MethodGet, "/time", &t); err != nil {
			return Offset{}, err
		}
		t1 := time.Now()
		rtt := t1.Sub(t0)
		mid := t0.UnixNano() + int64(rtt/2)
		if best.Error < 0 || rtt/2 < best.Error {
			best = Offset{Offset: time.Duration(mid - t.UnixNano), Error: rtt / 2}
		}
	}
	return best, nil
}

// Start is when a step starts, on the local clock.
type Start struct {
	At time.Time
	// RunKey is the collector's run key (runner.ShardSetup.SeedKey).
	RunKey uint64
	// Late is set when the step had started without this shard.
	Late bool
}

// Barrier announces that shard reached step and waits until every shard
// did; the start it returns is on the local clock (the collector's start
// plus the offset).
func (c *Client) Barrier(ctx context.Context, shard, step int, off Offset) (Start, error) {
	q := url.Values{"shard": {strconv.Itoa(shard)}, "step": {strconv.Itoa(step)}}
	var last BarrierReply
	for {
		var rep BarrierReply
		if err := c.getJSON(ctx, http.MethodPost, "/barrier?"+q.Encode(), &rep); err != nil {
			if ctx.Err() != nil && last.Shards > 0 {
				return Start{}, fmt.Errorf("waiting for the other shards at step %d (%d of %d arrived): %w", step, last.Arrived, last.Shards, ctx.Err())
			}
			return Start{}, err
		}
		last = rep
		if rep.Ready {
			key, err := parseRunKey(rep.RunKey)
			if err != nil {
				return Start{}, err
			}
			return Start{At: time.Unix(0, rep.StartUnixNano).Add(off.Offset), RunKey: key, Late: rep.Late}, nil
		}
		t := time.NewTimer(c.Poll)
		select {
		case <-ctx.Done():
			t.Stop()
			return Start{}, fmt.Errorf("waiting for the other shards at step %d (%d of %d arrived): %w", step, rep.Arrived, rep.Shards, ctx.Err())
		case <-t.C:
		}
	}
}

// Upload sends shard's results (a gzip'd tar of the directories, see Pack)
// as attempt pod, retrying transient failures for up to a minute.
func (c *Client) Upload(ctx context.Context, shard int, pod string, dirs []Dir) (Upload, error) {
	var buf bytes.Buffer
	if err := Pack(&buf, dirs); err != nil {
		return Upload{}, err
	}
	sum := sha256.Sum256(buf.Bytes())
	q := url.Values{"pod": {pod}}
	deadline := time.Now().Add(time.Minute)
	for wait := 500 * time.Millisecond; ; wait = min(2*wait, 8*time.Second) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPut, fmt.Sprintf("%s/shards/%d?%s", c.base, shard, q.Encode()), bytes.NewReader(buf.Bytes()))
		if err != nil {
			return Upload{}, err
		}
		req.Header.Set("X-Content-SHA256", hex.EncodeToString(sum[:]))
		req.Header.Set("Content-Type", "application/gzip")
		body, err := c.do(req)
		if err == nil {
			defer body.Close()
			var up Upload
			return up, json.NewDecoder(body).Decode(&up)
		}
		var se *statusError
		if errors.As(err, &se) && se.code/100 == 4 {
			// The collector refused the upload: retrying cannot help.
			return Upload{}, fmt.Errorf("uploading shard %d's results: %w", shard, err)
		}
		if time.Now().Add(wait).After(deadline) || ctx.Err() != nil {
			return Upload{}, fmt.Errorf("uploading shard %d's results (%d bytes): %w", shard, buf.Len(), err)
		}
		select {
		case <-ctx.Done():
		case <-time.After(wait):
		}
	}
}

// StatusOf reads a collector's uploads and barriers through g.
func StatusOf(ctx context.Context, g Getter) (*Status, error) {
	body, err := g.Get(ctx, "/shards")
	if err != nil {
		return nil, err
	}
	defer body.Close()
	var st Status
	if err := json.NewDecoder(body).Decode(&st); err != nil {
		return nil, fmt.Errorf("collector: reading its status: %w", err)
	}
	return &st, nil
}

// Fetch downloads upload up through g and unpacks it into dir, checking
// its digest.
func Fetch(ctx context.Context, g Getter, up Upload, dir string) error {
	body, err := g.Get(ctx, fmt.Sprintf("/shards/%d/%s", up.Shard, url.PathEscape(up.Pod)))
	if err != nil {
		return err
	}
	defer body.Close()
	data, err := io.ReadAll(body)
	if err != nil {
		return fmt.Errorf("collector: downloading shard %d (pod %s): %w", up.Shard, up.Pod, err)
	}
	if sum := sha256.Sum256(data); up.SHA256 != "" && hex.EncodeToString(sum[:]) != up.SHA256 {
		return fmt.Errorf("collector: shard %d (pod %s): the download does not match the upload's sha256", up.Shard, up.Pod)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	return Unpack(bytes.NewReader(data), dir)
}

// statusError is an answer of the collector other than 2xx.
type statusError struct {
	code int
	msg  string
}

func (e *statusError) Error() string { return e.msg }
