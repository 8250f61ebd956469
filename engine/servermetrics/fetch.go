package servermetrics

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// notPrometheus marks an answer that will never be a Prometheus exposition
// (404, JSON, HTML): the endpoint is dropped rather than retried.
type notPrometheus struct{ reason string }

func (e *notPrometheus) Error() string { return e.reason }

// fetched is one HTTP fetch of a metrics endpoint.
type fetched struct {
	body                  []byte
	sent, firstByte, done time.Time
	contentType           string
}

// fetch GETs u with the limits of the collector: a timeout, a body size cap
// and the Prometheus text format asked for.
func fetch(ctx context.Context, c *http.Client, u string, timeout time.Duration, maxBody int64, buf *bytes.Buffer) (fetched, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var f fetched
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return f, err
	}
	req.Header.Set("Accept", "text/plain;version=0.0.4;q=1,*/*;q=0.1")
	req.Header.Set("User-Agent", "loadstar-server-metrics")
	f.sent = time.Now()
	resp, err := c.Do(req)
	if err != nil {
		var ne net.Error
		if errors.Is(ctx.Err(), context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout() {
			return f, fmt.Errorf("no answer within %v", timeout)
		}
		return f, shortNetError(err)
	}
	defer resp.Body.Close()
	f.firstByte = time.Now()
	f.contentType = resp.Header.Get("Content-Type")
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
		err := fmt.Errorf("HTTP %d", resp.StatusCode)
		switch resp.StatusCode {
		case http.StatusNotFound, http.StatusMethodNotAllowed, http.StatusNotImplemented, http.StatusUnauthorized, http.StatusForbidden:
			return f, &notPrometheus{reason: fmt.Sprintf("HTTP %d: no Prometheus metrics at this URL", resp.StatusCode)}
		}
		return f, err
	}
	if mt, _, _ := mime.ParseMediaType(f.contentType); mt == "application/json" || mt == "text/html" {
		return f, &notPrometheus{reason: fmt.Sprintf("answered %s, not the Prometheus text format", mt)}
	}
	buf.Reset()
	n, err := buf.ReadFrom(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return f, fmt.Errorf("body not read within %v", timeout)
		}
		return f, fmt.Errorf("reading the body: %w", shortNetError(err))
	}
	if n > maxBody {
		return f, fmt.Errorf("body larger than the %d-byte limit", maxBody)
	}
	f.done = time.Now()
	f.body = buf.Bytes()
	return f, nil
}

// shortNetError drops the URL net/http repeats in its errors.
func shortNetError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	msg := err.Error()
	if i := strings.LastIndex(msg, ": "); i >= 0 && strings.Contains(msg, "dial tcp") {
		msg = msg[i+2:] // "dial tcp 127.0.0.1:9: connect: connection refused" → "connection refused"
	}
	return errors.New(msg)
}

// NormalizeURL turns what a user wrote into a scrape URL: a scheme is added
// when missing (http) and "/metrics" when there is no path, so
// "localhost:9400" becomes "http://localhost:9400/metrics".
func NormalizeURL(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", errors.New("empty URL")
	}
	if !strings.Contains(s, "://") {
		s = "http://" + s
	}
	u, err := url.Parse(s)
	if err != nil {
		return "", fmt.Errorf("%q is not a URL: %w", s, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", fmt.Errorf("%q: want an http or https URL", s)
	}
	if u.Host == "" {
		return "", fmt.Errorf("%q has no host", s)
	}
	if u.Path == "" || u.Path == "/" {
		u.Path = "/metrics"
	}
	return u.String(), nil
}

// MetricsURL is the Prometheus endpoint of the server behind an inference
// URL: its scheme and host with /metrics, as AIPerf derives it from --url
// ("http://10.0.0.5:8000/v1/chat/completions" → "http://10.0.0.5:8000/metrics").
func MetricsURL(endpointURL string) (string, error) {
	s := endpointURL
	if !strings.Contains(s, "://") {
		s = "http://" + s
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("%q is not a URL", endpointURL)
	}
	return (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: "/metrics"}).String(), nil
}

// Display is the short form of an endpoint URL AIPerf uses in CSV rows and
// console titles: "http://localhost:8000/metrics" → "localhost:8000".
func Display(u string) string {
	d := u
	if i := strings.Index(d, "://"); i >= 0 {
		d = d[i+3:]
	}
	return strings.TrimSuffix(d, "/metrics")
}

// trtllmFallback is the path TensorRT-LLM serves Prometheus on when its
// /metrics answers iteration statistics in JSON.
func trtllmFallback(u string) (string, bool) {
	p, err := url.Parse(u)
	if err != nil || !strings.HasSuffix(p.Path, "/metrics") || strings.HasSuffix(p.Path, "/prometheus/metrics") {
		return "", false
	}
	p.Path = strings.TrimSuffix(p.Path, "/metrics") + "/prometheus/metrics"
	return p.String(), true
}
