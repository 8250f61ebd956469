package endpoint

import (
	"bufio"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/loadstar/loadstar/engine/ordered"
	"github.com/loadstar/loadstar/engine/plugin"
)

// suiteSigner is a signer with the credentials, region, service and time of
// AWS's SigV4 test suite.
func suiteSigner(token string) *SigV4 {
	return &SigV4{Region: "us-east-1", Service: "service", AccessKey: "AKIDEXAMPLE",
		SecretKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", SessionToken: plugin.Secret(token),
		Now: func() time.Time { return time.Date(2015, 8, 30, 12, 36, 0, 0, time.UTC) }}
}

// readSuiteRequest parses a test-suite .req file: the request line, the
// headers (X-Amz-Date and X-Amz-Security-Token are the signer's: the
// token is returned), the body.
func readSuiteRequest(t *testing.T, path string) (method, target string, headers [][2]string, token string, body []byte) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	head, rest, _ := strings.Cut(string(data), "\n\n")
	sc := bufio.NewScanner(strings.NewReader(head))
	sc.Scan()
	parts := strings.Fields(sc.Text())
	method, target = parts[0], parts[1]
	for sc.Scan() {
		name, value, _ := strings.Cut(sc.Text(), ":")
		switch strings.ToLower(name) {
		case "x-amz-date", "host":
		case "x-amz-security-token":
			token = value
		default:
			headers = append(headers, [2]string{name, value})
		}
	}
	return method, target, headers, token, []byte(rest)
}

// Every case of AWS's published SigV4 test suite we keep in testdata/sigv4
// signs to the suite's canonical request, string to sign and
// Authorization header.
func TestSigV4TestSuite(t *testing.T) {
	reqs, _ := filepath.Glob("testdata/sigv4/*.req")
	if len(reqs) < 10 {
		t.Fatalf("%d test-suite requests in testdata/sigv4", len(reqs))
	}
	for _, path := range reqs {
		name := strings.TrimSuffix(filepath.Base(path), ".req")
		t.Run(name, func(t *testing.T) {
			method, target, headers, token, body := readSuiteRequest(t, path)
			s := suiteSigner(token)
			signed, err := s.Sign(method, "https://example.amazonaws.com"+target, headers, body)
			if err != nil {
				t.Fatal(err)
			}
			want := func(ext string) string {
				b, err := os.ReadFile(strings.TrimSuffix(path, ".req") + ext)
				if os.IsNotExist(err) {
					return ""
				}
				if err != nil {
					t.Fatal(err)
				}
				return strings.TrimRight(string(b), "\n")
			}
			var auth string
			for _, h := range signed {
				if h[0] == "Authorization" {
					auth = h[1]
				}
			}
			if w := want(".authz"); auth != w {
				t.Errorf("Authorization\n got %s\nwant %s", auth, w)
			}
			u := mustURL(t, "https://example.amazonaws.com"+target)
			creq, sts, _ := s.signature(method, u, signed[:len(signed)-1], body, s.Now())
			if w := want(".creq"); w != "" && creq != w {
				t.Errorf("canonical request\n got %q\nwant %q", creq, w)
			}
			if w := want(".sts"); w != "" && sts != w {
				t.Errorf("string to sign\n got %q\nwant %q", sts, w)
			}
		})
	}
}

// What the runner sends is what was signed: a server verifying the
// signature from the request it received (Host, headers, path, body)
// agrees.
func TestSigV4SignsWhatIsSent(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
	t.Setenv("AWS_SESSION_TOKEN", "")
	ep := newEndpoint(t, "chat", plugin.Args{"model": []string{"m"}, "url": []string{"http://127.0.0.1:1/prod/v1"},
		"sigv4": ordered.FromPairs("region", "us-west-2", "service", "execute-api"), "headers": ordered.FromPairs("X-Team", "bench")})
	st := ep.(Configured).Settings()
	if st.Signer == nil || st.Signer.AccessKey.String() != plugin.Redacted {
		t.Fatalf("signer %+v", st.Signer)
	}
	var got *http.Request
	var gotBody []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r
		buf := make([]byte, r.ContentLength)
		_, _ = r.Body.Read(buf)
		gotBody = buf
	}))
	defer srv.Close()
	url := srv.URL + "/prod/v1/chat/completions?api-version=2"
	body := []byte(`{"model":"m","messages":[{"role":"user","content":"hi"}]}`)
	hdrs := st.AppendHeaders(nil, nil, "req-1", "sess-1")
	hdrs, err := st.Signer.Sign("POST", url, hdrs, body)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("POST", url, strings.NewReader(string(body)))
	for _, h := range hdrs {
		req.Header.Set(h[0], h[1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	// Verify as a server would: rebuild the request it received and sign it.
	var recv [][2]string
	var claimed string
	for name, vs := range got.Header {
		switch name {
		case "Authorization":
			claimed = vs[0]
		case "Content-Length", "Accept-Encoding":
		default:
			recv = append(recv, [2]string{name, vs[0]})
		}
	}
	signedNames := claimed[strings.Index(claimed, "SignedHeaders=")+len("SignedHeaders=") : strings.Index(claimed, ", Signature")]
	var keep [][2]string
	for _, h := range recv {
		if strings.Contains(";"+signedNames+";", ";"+strings.ToLower(h[0])+";") {
			keep = append(keep, h)
		}
	}
	u := mustURL(t, "http://"+got.Host+got.URL.RequestURI())
	at, _ := time.Parse(amzDate, got.Header.Get("X-Amz-Date"))
	_, _, auth := st.Signer.signature(got.Method, u, keep, gotBody, at)
	if auth != claimed || !strings.Contains(claimed, "/us-west-2/execute-api/aws4_request") ||
		!strings.Contains(signedNames, "host") || !strings.Contains(signedNames, "x-team") || strings.Contains(signedNames, "user-agent") {
		t.Errorf("server computes %s\nclient sent     %s", auth, claimed)
	}
}

func TestSigV4Credentials(t *testing.T) {
	dir := t.TempDir()
	creds := filepath.Join(dir, "credentials")
	if err := os.WriteFile(creds, []byte("[default]\naws_access_key_id = AKIDDEFAULT\naws_secret_access_key = s1\n\n[staging]\naws_access_key_id=AKIDSTAGING\naws_secret_access_key=s2\naws_session_token = tok\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"AWS_SHARED_CREDENTIALS_FILE": creds}
	getenv := func(k string) string { return env[k] }
	key, _, _, err := AWSCredentials("", getenv)
	if err != nil || key.Reveal() != "AKIDDEFAULT" {
		t.Errorf("default profile: %v %v", key.Reveal(), err)
	}
	key, _, tok, err := AWSCredentials("staging", getenv)
	if err != nil || key.Reveal() != "AKIDSTAGING" || tok.Reveal() != "tok" {
		t.Errorf("staging: %v %v %v", key.Reveal(), tok.Reveal(), err)
	}
	env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"] = "AKIDENV", "s3"
	if key, _, _, _ := AWSCredentials("", getenv); key.Reveal() != "AKIDENV" {
		t.Errorf("the environment comes first, got %s", key.Reveal())
	}
	if _, _, _, err := AWSCredentials("nope", getenv); err == nil || !strings.Contains(err.Error(), `no [nope] in`) {
		t.Errorf("missing profile: %v", err)
	}
	// Secrets never print, whatever the error says.
	_, err = newSigV4(ordered.FromPairs("region", "r"), getenv)
	if err == nil || strings.Contains(err.Error(), "s3") || !strings.Contains(err.Error(), "region and service are required") {
		t.Errorf("missing service: %v", err)
	}
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDENV")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "s3")
	var chat Builtin
	for _, b := range Builtins() {
		if b.Name == "chat" {
			chat = b
		}
	}
	_, err = chat.ClassOf().Build("endpoint.chat", plugin.Args{"model": []string{"m"}, "api_key": "k",
		"sigv4": ordered.FromPairs("region", "r", "service", "s")})
	if err == nil || !strings.Contains(err.Error(), "give one of them") {
		t.Errorf("api_key with sigv4: %v", err)
	}
}

func mustURL(t *testing.T, raw string) *url.URL {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
