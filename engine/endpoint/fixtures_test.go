package endpoint

import (
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/loadstar/loadstar/engine/plugin"
	"github.com/loadstar/loadstar/engine/record"
)

// fixtureCase is what parsing one captured server response must yield.
type fixtureCase struct {
	endpoint string
	events   []string
	usage    record.Usage
	output   string
}

// The byte-exact real-server captures of testdata/fixtures (see the README
// there): llama.cpp's null first content, its `timings`
// objects, usage chunks with empty choices, ollama's repeated role, and
// replacement / control characters that must come through unchanged.
var fixtureCases = map[string]fixtureCase{
	"sse/llamacpp-chat-stream.txt": {
		endpoint: "chat",
		events:   []string{"text:D", "text:\uFFFD", "text: for", "text: j", "text:\uFFFD", "text:\uFFFDz hello", "usage"},
		usage:    usage(27, 8, 35, -1, 0, -1, -1),
		output:   "D\uFFFD for j\uFFFD\uFFFDz hello",
	},
	"sse/llamacpp-chat-stream-no-usage.txt": {
		endpoint: "chat",
		events:   []string{"text: r", "text: to", "text: u", "text:m", "text: it"},
		usage:    record.NoUsage,
		output:   " r to um it",
	},
	"sse/llamacpp-completions-stream.txt": {
		endpoint: "completions",
		events:   []string{"text: cat", "text: and", "text:o", "text: l", "text: they", "text:y", "usage"},
		usage:    usage(10, 6, 16, -1, 0, -1, -1),
		output:   " cat ando l theyy",
	},
	"sse/ollama-chat-stream.txt": {
		endpoint: "chat",
		events: []string{"text:D", "text:y", "text:r", "text:\x1b", "text:c", "text:\x01", "text: k",
			"text:,", "text: slow", "text:w", "text: d", "text:q", "usage"},
		usage:  usage(27, 19, 46, -1, -1, -1, -1),
		output: "Dyr\x1bc\x01 k, sloww dq",
	},
	"json/llamacpp-chat.json": {
		endpoint: "chat",
		events:   []string{"text: r to uc heo"},
		usage:    usage(22, 6, 28, -1, 0, -1, 6),
		output:   " r to uc heo",
	},
	"json/llamacpp-completions.json": {
		endpoint: "completions",
		events:   []string{"text: l!cx of this"},
		usage:    usage(5, 6, 11, -1, 4, -1, 6),
		output:   " l!cx of this",
	},
	"json/llamacpp-embeddings-truncated.json": {
		endpoint: "embeddings",
		events:   []string{"embeddings:2"},
		usage:    usage(17, -1, 17, -1, -1, -1, -1),
	},
	// llamacpp-error-400.json is an HTTP 400 body: see TestFixtureError400.
}

// TestFixtures parses every captured response, SSE ones split into reads
// of several sizes (a message split across reads must parse the same).
func TestFixtures(t *testing.T) {
	for name, fc := range fixtureCases {
		t.Run(name, func(t *testing.T) {
			ep := newEndpoint(t, fc.endpoint, plugin.Args{"model": []string{"m"}})
			body := fixture(t, name)
			var recs []*record.Record
			if filepath.Dir(name) == "sse" {
				for _, chunk := range []int{0, 1, 7, 64} {
					recs = append(recs, feedSSE(ep.NewParser(), body, chunk))
				}
			} else {
				rec := record.New()
				ep.NewParser().Body("application/json", body, 5000, rec)
				recs = append(recs, rec)
			}
			for _, rec := range recs {
				checkNoError(t, rec)
				checkEvents(t, rec, fc.events...)
				if rec.Usage != fc.usage {
					t.Errorf("usage = %+v; want %+v", rec.Usage, fc.usage)
				}
				if string(rec.Output) != fc.output {
					t.Errorf("output = %q; want %q", rec.Output, fc.output)
				}
				if len(rec.Reasoning) != 0 {
					t.Errorf("reasoning = %q; want none", rec.Reasoning)
				}
			}
		})
	}
}

// TestFixturesCovered fails when a fixture file has no expectation, so a
// new capture cannot be added without a test.
func TestFixturesCovered(t *testing.T) {
	var files []string
	for _, dir := range []string{"sse", "json"} {
		entries, err := os.ReadDir(filepath.Join("testdata", "fixtures", dir))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			files = append(files, dir+"/"+e.Name())
		}
	}
	sort.Strings(files)
	for _, f := range files {
		if _, ok := fixtureCases[f]; !ok && f != "json/llamacpp-error-400.json" {
			t.Errorf("fixture %s has no parsing expectation", f)
		}
	}
	if len(files) != len(fixtureCases)+1 {
		t.Errorf("%d fixture files, %d expectations", len(files), len(fixtureCases)+1)
	}
}

func TestFixtureError400(t *testing.T) {
	body := fixture(t, "json/llamacpp-error-400.json")
	got := ErrorFromStatus(400, "", body)
	want := record.ErrorDetails{Code: 400, Type: "Bad Request", Message: "Expected 'messages' to be an array"}
	if got != want {
		t.Errorf("ErrorFromStatus = %+v; want %+v", got, want)
	}
	api, ok := ParseAPIError(body)
	if !ok || api != (APIError{Code: 400, Type: "invalid_request_error", Message: "Expected 'messages' to be an array"}) {
		t.Errorf("ParseAPIError = %+v, %v", api, ok)
	}
	// The same body delivered with a 2xx status fails the record too.
	rec := record.New()
	newEndpoint(t, "chat", plugin.Args{"model": []string{"m"}}).NewParser().Body("application/json", body, 1, rec)
	checkError(t, rec, 400, errAPI, "Expected 'messages' to be an array")
	checkEvents(t, rec)
}
