package main

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
)

// The secrets test: every command path that can print a configuration —
// profile (console, logs, JSON, CSV, JSONL, raw export), --emit-scenario,
// run (print(), logs, artifacts), inspect, the mock's --record file, and
// the error of a URL with a password — is run by the binary with a
// sentinel secret in every form a credential is given (api key, bearer
// header, AIPerf's JSON -H, Cookie, X-Amz-Security-Token, a *-Signature
// header, url_params, a URL query, a URL password, env()), and every
// output and every file written is searched for it.

// sentinel is the secret; a real value has this shape too.
const sentinel = "SeNtInEl7f3a9c"

// secretScenario gives the sentinel in every form a scenario can (the
// file itself holds it, as a user's file would; it is not searched).
const secretScenario = `
key = env("SENTINEL_API_KEY")
ep = endpoint.chat(
    url = vars["url"],
    model = "mock",
    api_key = key,
    headers = {
        "Cookie": "session=SeNtInEl7f3a9c",
        "X-Amz-Security-Token": "aws-SeNtInEl7f3a9c",
        "X-Goog-Signature": "sig-SeNtInEl7f3a9c",
        "X-Proxy": "Bearer SeNtInEl7f3a9c",
        "X-Team": "team-a",
    },
    url_params = {"api_key": "q-SeNtInEl7f3a9c", "sig": "s-SeNtInEl7f3a9c", "v": "1"},
)
print(ep)
print(key)
print("key:", key, "header:", "Bearer " + key)
r = run(endpoint = ep, dataset = dataset.synthetic(isl = 8, osl = 2), requests = 2,
        artifact_dir = "run-art", export_level = "raw", ui = "none")
print(r)
`

func TestSecretsNeverWritten(t *testing.T) {
	dir := writeScenario(t, secretScenario)
	mockProc := startLoadstar(t, dir, "mock", "--port", "0", "--fast", "--record", "mock-record.jsonl")
	mockProc.waitStderr(`mock server listening.*url=http://`)
	url := regexp.MustCompile(`url=(http://\S+)`).FindStringSubmatch(mockProc.stderr.String())[1]

	S := sentinel
	profile := []string{"--log-level", "debug", "profile", "--url", url + "/?api_key=u-" + S + "&v=1", "-m", "mock",
		"--endpoint-type", "chat", "--request-count", "2", "--synthetic-input-tokens-mean", "8", "--output-tokens-mean", "2",
		"--api-key", "k-" + S, "-H", "Authorization: Bearer a-" + S, "-H", "Cookie: c=" + S,
		"-H", "X-Amz-Security-Token: x-" + S, "-H", "X-My-Signature: s-" + S,
		"-H", `{"X-Db-Password": "p-` + S + `", "X-Auth-Token": "t-` + S + `", "X-Team": "team-a"}`}
	runs := []struct {
		name string
		args []string
		code int
	}{
		{"profile", append(append([]string{}, profile...), "--artifact-dir", "prof-art", "--export-level", "raw", "--ui-type", "none"), 0},
		{"profile-json-logs", append([]string{"--log-format", "json"}, append(append([]string{}, profile...), "--artifact-dir", "prof-json", "--ui-type", "none")...), 0},
		{"emit-scenario", append(append([]string{}, profile...), "--emit-scenario"), 0},
		{"run", []string{"--log-level", "debug", "run", "s.star", "--var", "url=" + url}, 0},
		{"inspect", []string{"inspect", "s.star", "--var", "url=" + url}, 0},
		{"url-password", []string{"profile", "--url", "http://user:pw-" + S + "@" + strings.TrimPrefix(url, "http://"), "-m", "mock", "--request-count", "1"}, 4},
	}
	t.Setenv("SENTINEL_API_KEY", "env-"+S)
	for _, r := range runs {
		p := startLoadstar(t, dir, r.args...)
		if code := p.wait(); code != r.code {
			t.Fatalf("%s: exit code %d, want %d\nstderr:\n%s", r.name, code, r.code, p.stderr.String())
		}
		for stream, text := range map[string]string{"stdout": p.stdout.String(), "stderr": p.stderr.String()} {
			if i := strings.Index(text, S); i >= 0 {
				t.Errorf("%s: the secret is on %s: …%s…", r.name, stream, excerpt(text, i))
			}
		}
		if r.name == "emit-scenario" && !strings.Contains(p.stdout.String(), `_secret("headers_cookie")`) {
			t.Errorf("emit-scenario: the Cookie header is not read from --var:\n%s", p.stdout.String())
		}
	}

	mockProc.signal(syscall.SIGTERM) // it flushes its record file as it exits
	mockProc.expectExit(0)

	// The sentinel reached the server, so the runs did use it; what was
	// written shows where it was hidden.
	written := 0
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || filepath.Base(path) == "s.star" {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		written++
		if i := strings.Index(string(b), S); i >= 0 {
			rel, _ := filepath.Rel(dir, path)
			t.Errorf("the secret is in %s: …%s…", rel, excerpt(string(b), i))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"prof-art/profile_export_aiperf.json", "run-art/profile_export_aiperf.json", "mock-record.jsonl"} {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil || !strings.Contains(string(b), "<redacted>") {
			t.Errorf("%s: want the secrets shown as <redacted> (%v)", f, err)
		}
	}
	rec, _ := os.ReadFile(filepath.Join(dir, "mock-record.jsonl"))
	if n := strings.Count(string(rec), `"/v1/chat/completions"`); n < 6 {
		t.Errorf("the mock recorded %d chat requests, want 6 (2 per run): the runs did not send", n)
	}
	if !strings.Contains(string(rec), `"X-Team":"team-a"`) {
		t.Errorf("mock record: a harmless header lost its value:\n%.600s", rec)
	}
	t.Logf("searched %d files", written)
	if testing.Verbose() {
		t.Logf("record:\n%s", rec)
	}
}

func excerpt(s string, i int) string {
	lo, hi := max(0, i-80), min(len(s), i+40)
	return fmt.Sprintf("%q", s[lo:hi])
}
