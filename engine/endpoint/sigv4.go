package endpoint

import (
	"bufio"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/loadstar/loadstar/engine/ordered"
	"github.com/loadstar/loadstar/engine/plugin"
)

// SigV4 signs requests with AWS Signature Version 4 (AIPerf --auth-type
// sigv4), for API Gateway, SageMaker and other IAM-protected endpoints.
// Every request is signed when it is sent: the signature covers the method,
// the URL's path and query, the headers sent (Host included, User-Agent
// not) and a SHA-256 of the body, and carries the time (X-Amz-Date).
//
// Credentials come from the environment (AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN) or from a profile of the shared
// credentials file (~/.aws/credentials, AWS_SHARED_CREDENTIALS_FILE); they
// are plugin.Secret values and never print.
type SigV4 struct {
	Region, Service string
	AccessKey       plugin.Secret
	SecretKey       plugin.Secret
	SessionToken    plugin.Secret
	// Now gives the signing time (default time.Now).
	Now func() time.Time
}

// AWSCredentials reads credentials as the AWS CLI's default chain does for
// static keys: the environment, else the profile (profile, else
// AWS_PROFILE, else "default") of the shared credentials file. getenv
// reads the environment (os.Getenv when nil).
func AWSCredentials(profile string, getenv func(string) string) (key, secret, token plugin.Secret, err error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	if profile == "" {
		if id, sec := getenv("AWS_ACCESS_KEY_ID"), getenv("AWS_SECRET_ACCESS_KEY"); id != "" && sec != "" {
			return plugin.Secret(id), plugin.Secret(sec), plugin.Secret(getenv("AWS_SESSION_TOKEN")), nil
		}
		profile = getenv("AWS_PROFILE")
	}
	if profile == "" {
		profile = "default"
	}
	path := getenv("AWS_SHARED_CREDENTIALS_FILE")
	if path == "" {
		home := getenv("HOME")
		if home == "" {
			home, _ = os.UserHomeDir()
		}
		path = filepath.Join(home, ".aws", "credentials")
	}
	values, err := iniSection(path, profile)
	if err != nil {
		return "", "", "", fmt.Errorf("no AWS credentials: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set, and profile %q: %w", profile, err)
	}
	if values["aws_access_key_id"] == "" || values["aws_secret_access_key"] == "" {
		return "", "", "", fmt.Errorf("no AWS credentials: profile %q of %s has no aws_access_key_id and aws_secret_access_key (SSO and role profiles are not read: export the keys)", profile, path)
	}
	return plugin.Secret(values["aws_access_key_id"]), plugin.Secret(values["aws_secret_access_key"]), plugin.Secret(values["aws_session_token"]), nil
}

// iniSection reads the keys of [section] of an INI file.
func iniSection(path, section string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[string]string{}
	in, found := false, false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || line[0] == '#' || line[0] == ';':
		case strings.HasPrefix(line, "["):
			name := strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(line, "["), "]"))
			in = name == section || name == "profile "+section
			found = found || in
		case in:
			if k, v, ok := strings.Cut(line, "="); ok {
				out[strings.ToLower(strings.TrimSpace(k))] = strings.TrimSpace(v)
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if !found {
		return nil, fmt.Errorf("no [%s] in %s", section, path)
	}
	return out, nil
}

// newSigV4 builds the signer of an endpoint's sigv4 argument:
// {"region": ..., "service": ..., "profile": ...}.
func newSigV4(m *ordered.Map, getenv func(string) string) (*SigV4, error) {
	s := &SigV4{}
	var profile string
	for _, k := range m.Keys() {
		v, _ := m.Get(k)
		str, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("sigv4: %s must be a string, got %v", k, v)
		}
		switch k {
		case "region":
			s.Region = str
		case "service":
			s.Service = str
		case "profile":
			profile = str
		default:
			return nil, fmt.Errorf("sigv4: unknown key %q (want region, service, profile)", k)
		}
	}
	if s.Region == "" || s.Service == "" {
		return nil, errors.New(`sigv4: region and service are required, e.g. {"region": "us-east-1", "service": "execute-api"} ("sagemaker" for SageMaker)`)
	}
	var err error
	if s.AccessKey, s.SecretKey, s.SessionToken, err = AWSCredentials(profile, getenv); err != nil {
		return nil, fmt.Errorf("sigv4: %w", err)
	}
	return s, nil
}

const (
	amzDate     = "20060102T150405Z"
	sigV4Algo   = "AWS4-HMAC-SHA256"
	emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
)

// Sign returns headers with X-Amz-Date, X-Amz-Security-Token (temporary
// credentials) and Authorization added for a request of method to rawURL
// with body. Every header in headers except User-Agent is signed, with the
// URL's host; the caller must send them unchanged.
func (s *SigV4) Sign(method, rawURL string, headers [][2]string, body []byte) ([][2]string, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return headers, fmt.Errorf("sigv4: %w", err)
	}
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	t := now().UTC()
	headers = dropHeaders(headers, "Authorization", "X-Amz-Date", "X-Amz-Security-Token")
	headers = append(headers, [2]string{"X-Amz-Date", t.Format(amzDate)})
	if s.SessionToken != "" {
		headers = append(headers, [2]string{"X-Amz-Security-Token", s.SessionToken.Reveal()})
	}
	_, _, auth := s.signature(method, u, headers, body, t)
	return append(headers, [2]string{"Authorization", auth}), nil
}

// signature computes the canonical request, the string to sign and the
// Authorization header of a request whose headers already hold X-Amz-Date
// (and the session token).
func (s *SigV4) signature(method string, u *url.URL, headers [][2]string, body []byte, t time.Time) (creq, sts, auth string) {
	creq, signed := canonicalRequest(method, u, headers, body, s.Service == "s3")
	scope := t.Format("20060102") + "/" + s.Region + "/" + s.Service + "/aws4_request"
	sts = sigV4Algo + "\n" + t.Format(amzDate) + "\n" + scope + "\n" + sha256Hex([]byte(creq))
	key := hmacSHA256([]byte("AWS4"+s.SecretKey.Reveal()), t.Format("20060102"))
	for _, part := range []string{s.Region, s.Service, "aws4_request"} {
		key = hmacSHA256(key, part)
	}
	sig := hex.EncodeToString(hmacSHA256(key, sts))
	auth = sigV4Algo + " Credential=" + s.AccessKey.Reveal() + "/" + scope + ", SignedHeaders=" + signed + ", Signature=" + sig
	return creq, sts, auth
}

// canonicalRequest builds SigV4's canonical request and the signed headers
// list. Paths are encoded the way AWS services other than S3 expect: the
// URL's escaped path encoded once more, after removing dot segments and
// empty segments.
func canonicalRequest(method string, u *url.URL, headers [][2]string, body []byte, s3 bool) (creq, signedList string) {
	path := u.EscapedPath()
	if !s3 {
		path = normalizePath(path)
	}
	if path == "" {
		path = "/"
	}
	canonPath := awsEscape(path, false)
	if s3 {
		canonPath = awsEscape(u.Path, false)
	}
	// Query: keys and values encoded, sorted by key then value.
	var pairs []string
	for k, vs := range u.Query() {
		for _, v := range vs {
			pairs = append(pairs, awsEscape(k, true)+"="+awsEscape(v, true))
		}
	}
	sort.Strings(pairs)
	// Headers: lower-case names, values trimmed with inner runs of spaces
	// folded, repeated names joined with commas.
	vals := map[string][]string{"host": {u.Host}} // the Host header the transport sends
	for _, h := range headers {
		name := strings.ToLower(strings.TrimSpace(h[0]))
		if name == "user-agent" || name == "host" {
			continue
		}
		vals[name] = append(vals[name], strings.Join(strings.Fields(h[1]), " "))
	}
	names := make([]string, 0, len(vals))
	for n := range vals {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString(method + "\n" + canonPath + "\n" + strings.Join(pairs, "&") + "\n")
	for _, n := range names {
		b.WriteString(n + ":" + strings.Join(vals[n], ",") + "\n")
	}
	signedList = strings.Join(names, ";")
	b.WriteString("\n" + signedList + "\n" + sha256Hex(body))
	return b.String(), signedList
}

// normalizePath removes "." and ".." segments and empty segments, keeping
// a trailing slash.
func normalizePath(p string) string {
	trailing := strings.HasSuffix(p, "/") && p != "/"
	var out []string
	for _, seg := range strings.Split(p, "/") {
		switch seg {
		case "", ".":
		case "..":
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
		default:
			out = append(out, seg)
		}
	}
	n := "/" + strings.Join(out, "/")
	if trailing && n != "/" {
		n += "/"
	}
	return n
}

// awsEscape is SigV4's URI encoding: every byte but the unreserved
// characters A-Z a-z 0-9 - _ . ~ percent-encoded (upper-case hex); "/"
// kept unless slash.
func awsEscape(s string, slash bool) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '-', c == '_', c == '.', c == '~':
			b.WriteByte(c)
		case c == '/' && !slash:
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

func sha256Hex(b []byte) string {
	if len(b) == 0 {
		return emptySHA256
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func hmacSHA256(key []byte, msg string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}

// dropHeaders removes the named headers (any case).
func dropHeaders(h [][2]string, names ...string) [][2]string {
	out := h[:0]
	for _, kv := range h {
		keep := true
		for _, n := range names {
			if strings.EqualFold(kv[0], n) {
				keep = false
				break
			}
		}
		if keep {
			out = append(out, kv)
		}
	}
	return out
}
