// Package redact is loadstar's one rule for what is a secret and how it is
// hidden wherever it could be printed: the console, logs, the JSON, CSV and
// JSONL artifacts (cli_command, input_config), inspect, --emit-scenario,
// print() and the mock server's --record file. Every layer that prints a
// configuration asks this package, so a credential hidden in one place is
// hidden in all (docs/reliability.md, "Secrets").
//
// Three kinds of names are told apart, because "token" means a credential in
// a header (X-Amz-Security-Token) but a count in an argument (max_tokens):
//
//	redact.IsSecretName("api_key")            // true: an argument or variable
//	redact.IsSecretName("max_tokens")         // false
//	redact.IsSecretHeader("X-Amz-Security-Token") // true
//	redact.IsSecretParam("sig")               // true: a URL query parameter
//
// and values are hidden in the form they come in:
//
//	redact.HeaderLine("Cookie: session=abc")  // "Cookie: <redacted>"
//	redact.URL("http://u:pw@h/v1?key=k&v=1")  // "http://u:<redacted>@h/v1?key=<redacted>&v=1"
//
// The secret value type is plugin.Secret (a value, from env() or a key
// argument, that prints as Redacted whatever it is named).
package redact

import (
	"bytes"
	"encoding/json"
	"net/url"
	"strings"
)

// Redacted is what a secret is replaced with wherever it could be printed.
const Redacted = "<redacted>"

// IsSecretName reports whether an argument, variable or JSON key names a
// secret: api keys, authorization, passwords, secrets, credentials,
// cookies, signatures, bearer and access tokens — but not token counts
// (max_tokens) or metric names (time_to_first_token).
func IsSecretName(name string) bool {
	n := strings.ToLower(strings.ReplaceAll(name, "-", "_"))
	switch {
	case strings.Contains(n, "key") && !strings.Contains(n, "keepalive"),
		strings.Contains(n, "secret"), strings.Contains(n, "auth"),
		strings.Contains(n, "password"), strings.Contains(n, "passwd"),
		strings.Contains(n, "credential"), strings.Contains(n, "cookie"),
		strings.Contains(n, "signature"), strings.Contains(n, "bearer"),
		n == "token", n == "pwd":
		return true
	}
	for _, p := range []string{"access", "auth", "api", "hf", "refresh", "session", "id", "bearer", "oauth", "github", "gitlab", "security"} {
		if n == p+"_token" || strings.HasSuffix(n, "_"+p+"_token") {
			return true
		}
	}
	return false
}

// IsSecretHeader reports whether an HTTP header's value must never be
// printed: any name containing key, token, secret, auth, cookie, password,
// signature or credential (Authorization, Proxy-Authorization, x-api-key,
// Cookie, Set-Cookie, X-Amz-Security-Token, X-Goog-Signature, ...).
func IsSecretHeader(name string) bool {
	n := strings.ToLower(name)
	for _, w := range []string{"key", "token", "secret", "auth", "cookie", "password", "passwd", "signature", "credential"} {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}

// IsSecretParam reports whether a URL query parameter's value must never be
// printed: the header rule plus the short names of signed URLs (sig, code,
// X-Amz-Credential is covered by the header rule).
func IsSecretParam(name string) bool {
	switch strings.ToLower(name) {
	case "sig", "code", "pass", "pwd", "jwt", "sas", "apikey":
		return true
	}
	return IsSecretHeader(name)
}

// Header returns value, or Redacted when the header named name holds a
// secret or the value looks like a credential ("Bearer ...", "Basic ...").
func Header(name, value string) string {
	if IsSecretHeader(name) || LooksLikeCredential(value) {
		return Redacted
	}
	return value
}

// HeaderLine hides the value of a "Name: value" (or "Name:value") header
// line that holds a secret; a line without a colon, which cannot be told
// apart from a bare credential, is hidden whole.
func HeaderLine(s string) string {
	name, value, ok := strings.Cut(s, ":")
	if !ok {
		if LooksLikeCredential(s) || IsSecretHeader(s) {
			return Redacted
		}
		return s
	}
	if Header(strings.TrimSpace(name), strings.TrimSpace(value)) == Redacted {
		return strings.TrimSpace(name) + ": " + Redacted
	}
	return s
}

// LooksLikeCredential reports whether a value is an authorization scheme
// followed by a credential ("Bearer sk-...", "Basic dXNlcjpwdw==").
func LooksLikeCredential(value string) bool {
	scheme, rest, ok := strings.Cut(strings.TrimSpace(value), " ")
	if !ok || strings.TrimSpace(rest) == "" {
		return false
	}
	switch strings.ToLower(scheme) {
	case "bearer", "basic", "token", "digest", "apikey", "aws4-hmac-sha256":
		return true
	}
	return false
}

// URL hides the password of a URL's user information and the values of its
// secret-looking query parameters; any other text is returned unchanged.
// The result is meant to be read, not requested (Redacted is not escaped).
func URL(s string) string {
	i := strings.Index(s, "://")
	if i < 0 {
		return s
	}
	host := i + 3
	end := len(s)
	if j := strings.IndexAny(s[host:], "/?#"); j >= 0 {
		end = host + j
	}
	out := s
	if at := strings.LastIndexByte(s[host:end], '@'); at >= 0 {
		if c := strings.IndexByte(s[host:host+at], ':'); c >= 0 {
			out = s[:host+c+1] + Redacted + s[host+at:]
		}
	}
	if q := strings.IndexByte(out, '?'); q >= 0 {
		rest, frag, hasFrag := strings.Cut(out[q+1:], "#")
		out = out[:q+1] + Query(rest)
		if hasFrag {
			out += "#" + frag
		}
	}
	return out
}

// Query hides the values of the secret-looking parameters of a raw query
// string ("key=k&v=1" → "key=<redacted>&v=1"), keeping the order.
func Query(raw string) string {
	parts := strings.Split(raw, "&")
	for i, p := range parts {
		k, _, ok := strings.Cut(p, "=")
		name, err := url.QueryUnescape(k)
		if err != nil {
			name = k
		}
		if ok && IsSecretParam(name) {
			parts[i] = k + "=" + Redacted
		}
	}
	return strings.Join(parts, "&")
}

// Args hides the secrets of a command line (loadstar profile's, for
// cli_command): the values of flags named like a secret (--api-key),
// secret header lines and JSON header objects (-H, --header), and the
// secrets in URLs. Returns a copy.
func Args(args []string) []string {
	out := make([]string, len(args))
	next := "" // the flag whose value is the next argument
	for i, a := range args {
		if next != "" {
			out[i] = flagValue(next, a)
			next = ""
			continue
		}
		if strings.HasPrefix(a, "-H") && len(a) > 2 && !strings.HasPrefix(a, "--") {
			out[i] = "-H" + flagValue("-H", a[2:])
			continue
		}
		if strings.HasPrefix(a, "-") {
			name, val, hasVal := strings.Cut(a, "=")
			if hasVal {
				out[i] = name + "=" + flagValue(name, val)
				continue
			}
			if isSecretFlag(name) || isHeaderFlag(name) {
				next = name
			}
			out[i] = a
			continue
		}
		out[i] = URL(a)
	}
	return out
}

func isHeaderFlag(name string) bool { return name == "-H" || name == "--header" }

func isSecretFlag(name string) bool {
	return strings.HasPrefix(name, "-") && IsSecretName(strings.TrimLeft(name, "-"))
}

// flagValue hides a flag's value as the flag calls for.
func flagValue(flag, v string) string {
	switch {
	case isSecretFlag(flag):
		return Redacted
	case isHeaderFlag(flag):
		if strings.HasPrefix(strings.TrimSpace(v), "{") {
			return jsonHeaders(v)
		}
		return HeaderLine(v)
	}
	return URL(v)
}

// jsonHeaders hides the secret values of a JSON object of headers given as
// text; text that is not such an object is hidden whole, since it may hold
// a credential this function cannot place.
func jsonHeaders(v string) string {
	m, ok := decodeStringObject(v)
	if !ok {
		return Redacted
	}
	var b strings.Builder
	b.WriteByte('{')
	for i, kv := range m {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(quote(kv[0]) + ": " + quote(Header(kv[0], kv[1])))
	}
	b.WriteByte('}')
	return b.String()
}

// decodeStringObject decodes a JSON object of strings, keeping its order.
func decodeStringObject(v string) ([][2]string, bool) {
	dec := json.NewDecoder(strings.NewReader(v))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, false
	}
	var out [][2]string
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			return nil, false
		}
		var val any
		if err := dec.Decode(&val); err != nil {
			return nil, false
		}
		text, isText := val.(string)
		if !isText {
			b, _ := json.Marshal(val)
			text = string(b)
		}
		out = append(out, [2]string{k.(string), text})
	}
	return out, true
}

func quote(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	return strings.TrimSuffix(b.String(), "\n")
}
