package main

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/alecthomas/kong"

	"github.com/loadstar/loadstar/engine/mock"
)

// TestMockCommandServes starts `loadstar mock` through the real flag parser,
// reads the URL it prints, sends a request, records it, and stops it by
// cancelling its context (what SIGINT/SIGTERM do).
func TestMockCommandServes(t *testing.T) {
	record := filepath.Join(t.TempDir(), "requests.jsonl")
	var cli CLI
	parser, err := kong.New(&cli, kong.Name("loadstar"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := parser.Parse([]string{"mock", "--port", "0", "--ttft", "2", "--itl", "1ms",
		"--error-rate", "0%", "--record", record, "--model", "served-model", "--tokenizer", "o200k_base"}); err != nil {
		t.Fatal(err)
	}
	pr, pw := io.Pipe()
	app := &App{Stdout: pw, Stderr: io.Discard, Logger: slog.New(slog.DiscardHandler)}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- cli.Mock.serve(ctx, app); pw.Close() }()

	url, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatalf("reading the URL: %v", err)
	}
	url = strings.TrimSpace(url)
	if !strings.HasPrefix(url, "http://127.0.0.1:") {
		t.Fatalf("printed %q, want the URL", url)
	}
	go io.Copy(io.Discard, pr)

	req, _ := http.NewRequest("POST", url+"/v1/chat/completions",
		strings.NewReader(`{"model":"served-model","messages":[{"role":"user","content":"The quick brown fox"}],"max_tokens":3}`))
	req.Header.Set("Authorization", "Bearer sk-cli-secret")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"prompt_tokens":4,"completion_tokens":3`) {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("mock command returned %v after its context ended", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("mock command still running 5 s after its context ended")
	}
	rec, err := os.ReadFile(record)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(rec), `"path":"/v1/chat/completions"`) || strings.Contains(string(rec), "sk-cli-secret") ||
		!strings.Contains(string(rec), `"Authorization":"<redacted>"`) {
		t.Fatalf("record:\n%s", rec)
	}
}

func TestParseMillisAndProbability(t *testing.T) {
	for in, want := range map[string]time.Duration{"20": 20 * time.Millisecond, "0.5": 500 * time.Microsecond, "1.5s": 1500 * time.Millisecond, "0": 0} {
		if got, err := parseMillis(in); err != nil || got != want {
			t.Errorf("parseMillis(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"-1", "abc", "-2ms"} {
		if _, err := parseMillis(bad); err == nil {
			t.Errorf("parseMillis(%q) accepted", bad)
		}
	}
	for in, want := range map[string]float64{"0.1": 0.1, "10%": 0.1, "1": 1, "0%": 0} {
		if got, err := parseProbability(in); err != nil || got != want {
			t.Errorf("parseProbability(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"1.5", "-0.1", "200%", "x"} {
		if _, err := parseProbability(bad); err == nil {
			t.Errorf("parseProbability(%q) accepted", bad)
		}
	}
}

// The flags' defaults of `loadstar mock` are mock.DefaultConfig(): a server
// started without flags is the one mock.server() and the docs describe.
func TestMockFlagDefaultsAreTheConfigDefaults(t *testing.T) {
	var cli CLI
	parser, err := kong.New(&cli, kong.Name("loadstar"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := parser.Parse([]string{"mock"}); err != nil {
		t.Fatal(err)
	}
	cfg, closeRecord, err := cli.Mock.config(&App{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer closeRecord()
	resolve := func(c mock.Config) mock.Config {
		r, err := c.Resolved()
		if err != nil {
			t.Fatal(err)
		}
		r.Host, r.Port, r.Logger = "", 0, nil
		return r
	}
	if got, want := resolve(cfg), resolve(mock.DefaultConfig()); !reflect.DeepEqual(got, want) {
		t.Errorf("loadstar mock without flags:\n got %+v\nwant %+v", got, want)
	}
}

// docs/mock.md documents every flag of `loadstar mock`.
func TestMockFlagsDocumented(t *testing.T) {
	var cli CLI
	parser, err := kong.New(&cli, kong.Name("loadstar"))
	if err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile("../../docs/mock.md")
	if err != nil {
		t.Fatal(err)
	}
	var node *kong.Node
	for _, n := range parser.Model.Children {
		if n.Name == "mock" {
			node = n
		}
	}
	if node == nil {
		t.Fatal("no mock command")
	}
	if len(node.Flags) < 20 {
		t.Fatalf("mock has %d flags, want the full set", len(node.Flags))
	}
	for _, f := range node.Flags {
		if !strings.Contains(string(doc), "`--"+f.Name) {
			t.Errorf("docs/mock.md does not document --%s", f.Name)
		}
	}
}
