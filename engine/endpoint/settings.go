package endpoint

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/loadstar/loadstar/engine/dataset"
	"github.com/loadstar/loadstar/engine/ordered"
	"github.com/loadstar/loadstar/engine/plugin"
	"github.com/loadstar/loadstar/engine/redact"
)

// Defaults of the common parameters.
const (
	defaultURL           = "http://localhost:8000"
	defaultTimeout       = 6 * time.Hour // AIPerf's request timeout (21600 s)
	defaultSessionHeader = "X-Correlation-ID"
	defaultUserAgent     = "loadstar"
)

// Secret is a string that never prints (plugin.Secret).
type Secret = plugin.Secret

// Settings are the parsed common parameters of an endpoint: where requests
// go and how they are sent. Every built-in endpoint exposes them through
// Configured.
type Settings struct {
	// Name is the endpoint's registered name (e.g. "chat").
	Name     string
	Metadata plugin.EndpointMetadata
	// BaseURLs are the `url` values with a scheme; URLs the full request
	// URL built from each (wire.md §2), same order. The runner picks one per
	// session (url_selection).
	BaseURLs []string
	URLs     []string
	// Models are the configured model names; the runner assigns one per
	// request (Request.Model).
	Models []string
	// Streaming is the effective streaming mode: the `streaming` argument,
	// ignored when the endpoint cannot stream. It decides the Accept header
	// and whether the response is read as SSE.
	Streaming bool
	APIKey    Secret
	// Headers are the user's headers (`headers`), in order.
	Headers [][2]string
	// Extra are the extra inputs merged into every body (`extra`), with the
	// reserved template keys removed.
	Extra *ordered.Map
	// CustomPath is `custom_path` when given (even empty), else nil.
	CustomPath *string
	// URLParams are query parameters added to every URL (`url_params`).
	URLParams          *ordered.Map
	UseLegacyMaxTokens bool
	// Timeout is the total time allowed per request.
	Timeout time.Duration
	// SessionHeader names the per-session id header (X-Correlation-ID).
	SessionHeader string
	// SessionAffinity sends X-Session-Affinity copied from the session id.
	SessionAffinity bool
	UserAgent       string

	// PayloadTemplate and ResponseField are the reserved extra keys
	// `payload_template` / `response_field` (AIPerf's older template
	// configuration), taken out of Extra.
	PayloadTemplate any
	ResponseField   string

	// Signer signs each request when it is sent (the `sigv4` argument:
	// AWS Signature Version 4); nil = none.
	Signer *SigV4
	// ContentType is the request body's type (default application/json;
	// image_edit sends multipart/form-data).
	ContentType string

	wire Wire // set by endpoints with their own auth headers
	// heads caches the layered headers of requests without turn extra
	// headers (NewSettings sets it; nil = layer every request).
	heads *headCache
}

// CommonParams returns the parameters every endpoint accepts, in
// documentation order. Each call returns a fresh slice.
func CommonParams() []plugin.Param {
	return []plugin.Param{
		{Name: "url", Type: plugin.TStrings, Default: []string{defaultURL},
			Doc: "Server base URL(s); several are used round-robin per session. `http://` is added when no scheme is given, and the endpoint path is joined to the URL's path (a URL ending in /v1 does not get a second /v1; a URL already holding the full path is used as is)."},
		{Name: "model", Type: plugin.TStrings,
			Doc: "Model name(s) sent in the payload; several are assigned to requests by the model selection strategy. Required by every endpoint whose body names a model."},
		{Name: "streaming", Type: plugin.TBool, Default: false,
			Doc: "Request a streamed (SSE) answer; needed for TTFT and inter-token latency. Ignored by endpoints that cannot stream."},
		{Name: "api_key", Type: plugin.TString,
			Doc: "API key sent as `Authorization: Bearer <key>` (Anthropic messages: `x-api-key`). Never printed or exported."},
		{Name: "headers", Type: plugin.TAny,
			Doc: "Extra request headers: a dict {name: value}, or a list of \"Name: Value\" strings."},
		{Name: "extra", Type: plugin.TAny,
			Doc: "Extra inputs merged last into every request body (after the built-in fields, before a turn's own extra body): a dict, a JSON object string, or AIPerf's \"key:value,key2:value2\" string (true/false, none/null, integers and decimals are converted)."},
		{Name: "custom_path", Type: plugin.TString,
			Doc: "Path that replaces the endpoint's default path (AIPerf --custom-endpoint); \"\" sends to the URL as given."},
		{Name: "url_params", Type: plugin.TDict,
			Doc: "Query parameters added to every request URL (they override the URL's own)."},
		{Name: "use_legacy_max_tokens", Type: plugin.TBool, Default: false,
			Doc: "chat: send `max_tokens` instead of `max_completion_tokens`."},
		{Name: "timeout", Type: plugin.TDuration, Default: defaultTimeout,
			Doc: "Total time allowed per request (connect, send and receive); a request that exceeds it fails with a timeout error."},
		{Name: "session_header", Type: plugin.TString, Default: defaultSessionHeader,
			Doc: "Name of the header carrying the per-session id."},
		{Name: "session_affinity", Type: plugin.TBool, Default: true,
			Doc: "Also send the session id as `X-Session-Affinity` (sticky routing in gateways)."},
		{Name: "sigv4", Type: plugin.TDict,
			Doc: "Sign every request with AWS Signature Version 4 (API Gateway, SageMaker): {\"region\": \"us-east-1\", \"service\": \"execute-api\"} (\"sagemaker\" for SageMaker), optionally \"profile\". Credentials come from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN, else the profile of ~/.aws/credentials; they are never printed. Not with api_key."},
	}
}

// NewSettings parses the common parameters of endpoint name from args.
// Errors name the parameter.
func NewSettings(name string, md plugin.EndpointMetadata, args plugin.Args) (*Settings, error) {
	s := &Settings{
		Name:               name,
		Metadata:           md,
		Models:             args.Strings("model"),
		Streaming:          args.Bool("streaming") && md.SupportsStreaming,
		APIKey:             Secret(args.String("api_key")),
		UseLegacyMaxTokens: args.Bool("use_legacy_max_tokens"),
		Timeout:            args.Duration("timeout"),
		SessionHeader:      args.String("session_header"),
		SessionAffinity:    args.Bool("session_affinity"),
		UserAgent:          defaultUserAgent,
		URLParams:          args.Dict("url_params"),
		heads:              &headCache{},
	}
	var errs []error
	var err error
	bad := func(param string, err error) { errs = append(errs, fmt.Errorf("%s: %w", param, err)) }
	for i, m := range s.Models {
		if strings.TrimSpace(m) == "" {
			bad("model", fmt.Errorf("model %d is empty", i+1))
		}
	}
	if s.Timeout <= 0 {
		bad("timeout", fmt.Errorf("must be > 0, got %s", s.Timeout))
	}
	if err := checkHeaderName(s.SessionHeader); err != nil {
		bad("session_header", err)
	}
	if args.Has("custom_path") {
		p := args.String("custom_path")
		s.CustomPath = &p
	}
	if m := args.Dict("sigv4"); m != nil {
		if s.APIKey != "" {
			bad("sigv4", errors.New("signs the Authorization header; api_key would replace it (give one of them)"))
		} else if s.Signer, err = newSigV4(m, nil); err != nil {
			bad("sigv4", err)
		}
	}
	if h, err := ParseHeaders(args["headers"]); err != nil {
		bad("headers", err)
	} else {
		s.Headers = h
	}
	extra, err := ParseExtra(args["extra"])
	if err != nil {
		bad("extra", err)
	}
	if v, ok := extra.Get("payload_template"); ok {
		s.PayloadTemplate = v
		extra = extra.Clone()
		extra.Delete("payload_template")
	}
	if v, ok := extra.Get("response_field"); ok {
		rf, isStr := v.(string)
		if !isStr {
			bad("extra", fmt.Errorf("response_field must be a string, got %T", v))
		}
		s.ResponseField = rf
		extra = extra.Clone()
		extra.Delete("response_field")
	}
	s.Extra = extra

	urls := args.Strings("url")
	if len(urls) == 0 {
		bad("url", errors.New("at least one URL is required"))
	}
	sub := md.EndpointPath
	if s.Streaming && md.StreamingPath != "" {
		sub = md.StreamingPath
	}
	for _, u := range urls {
		full, err := buildURL(u, sub, s.CustomPath, s.URLParams)
		if err != nil {
			bad("url", err)
			continue
		}
		s.BaseURLs = append(s.BaseURLs, withScheme(u))
		s.URLs = append(s.URLs, full)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return s, nil
}

// ShownURLs returns the request URLs joined by sep for messages and
// reports, with secrets hidden (secret url_params; redact.URL).
func (s *Settings) ShownURLs(sep string) string {
	shown := make([]string, len(s.URLs))
	for i, u := range s.URLs {
		shown[i] = redact.URL(u)
	}
	return strings.Join(shown, sep)
}

// Model returns the model of req: Request.Model, else the turn's model,
// else the first configured model.
func (s *Settings) Model(req *Request) string {
	if req.Model != "" {
		return req.Model
	}
	if len(req.Turns) > 0 {
		if m := req.Last().Model; m != "" {
			return m
		}
	}
	if len(s.Models) > 0 {
		return s.Models[0]
	}
	return ""
}

// requireModel fails construction of an endpoint whose body names a model
// when none is configured.
func (s *Settings) requireModel() error {
	if len(s.Models) == 0 {
		return fmt.Errorf("model: required by endpoint %s (e.g. model=\"my-model\")", s.Name)
	}
	return nil
}

// withScheme adds http:// when u has no http:// or https:// prefix.
func withScheme(u string) string {
	l := strings.ToLower(u)
	if strings.HasPrefix(l, "http://") || strings.HasPrefix(l, "https://") {
		return u
	}
	return "http://" + u
}

// buildURL joins a base URL and an endpoint path as AIPerf does (wire.md §2):
//
//  1. no http:// or https:// prefix → http:// is prepended;
//  2. the base path loses its trailing slashes; query and fragment are kept;
//  3. the sub path is custom (when non-nil, even "") or subPath, without its
//     leading slashes;
//  4. an empty sub path appends nothing; a base path already ending in
//     "/"+sub is kept; a base path ending in /v1 with a sub path starting
//     with v1/ drops the duplicate v1/; otherwise base + "/" + sub;
//  5. the base URL's query parameters (first value of each), updated by
//     params, are re-encoded form-style in order.
//
// For example base "localhost:8000/v1" and "/v1/chat/completions" give
// "http://localhost:8000/v1/chat/completions".
func buildURL(base, subPath string, custom *string, params *ordered.Map) (string, error) {
	if strings.TrimSpace(base) == "" {
		return "", errors.New("empty URL")
	}
	shown := redact.URL(base) // error messages never quote a credential
	u, err := url.Parse(withScheme(strings.TrimSpace(base)))
	if err != nil {
		return "", fmt.Errorf("bad URL %q: %v", shown, redact.URL(err.Error()))
	}
	if u.Host == "" {
		return "", fmt.Errorf("bad URL %q: no host", shown)
	}
	if u.User != nil {
		// The transport never sends user information; refusing it here
		// beats a run of 100 % errors.
		return "", fmt.Errorf("bad URL %q: user information (user:password@) is not sent; give credentials as a header, e.g. headers = {\"Authorization\": \"Basic <base64 of user:password>\"}", shown)
	}
	basePath := strings.TrimRight(u.Path, "/")
	sub := subPath
	if custom != nil {
		sub = *custom
	}
	sub = strings.TrimLeft(sub, "/")
	path := basePath
	switch {
	case sub == "":
	case strings.HasSuffix(basePath, "/"+sub):
	case strings.HasSuffix(basePath, "/v1") && strings.HasPrefix(sub, "v1/"):
		path = basePath + "/" + sub[len("v1/"):]
	default:
		path = basePath + "/" + sub
	}
	u.Path, u.RawPath = path, ""
	if u.RawQuery != "" || params.Len() > 0 {
		q, err := mergeQuery(u.RawQuery, params)
		if err != nil {
			return "", fmt.Errorf("bad URL %q: %v", shown, err)
		}
		u.RawQuery = q
	}
	return u.String(), nil
}

// mergeQuery keeps the first value of each key of raw in order, applies
// params, and encodes the result form-style.
func mergeQuery(raw string, params *ordered.Map) (string, error) {
	q := ordered.New(4)
	for _, part := range strings.Split(raw, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		key, err := url.QueryUnescape(k)
		if err != nil {
			return "", err
		}
		val, err := url.QueryUnescape(v)
		if err != nil {
			return "", err
		}
		if _, seen := q.Get(key); !seen {
			q.Set(key, val)
		}
	}
	for _, k := range params.Keys() {
		v, _ := params.Get(k)
		q.Set(k, scalarString(v))
	}
	var b strings.Builder
	for i, k := range q.Keys() {
		if i > 0 {
			b.WriteByte('&')
		}
		v, _ := q.Get(k)
		b.WriteString(url.QueryEscape(k))
		b.WriteByte('=')
		b.WriteString(url.QueryEscape(v.(string)))
	}
	return b.String(), nil
}

// scalarString renders a parameter value as Python's str() would for the
// scalars users put in query strings and headers.
func scalarString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case plugin.Secret:
		return x.Reveal()
	case bool:
		if x {
			return "True"
		}
		return "False"
	case nil:
		return "None"
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	return fmt.Sprint(v)
}

// ParseExtra parses the `extra` argument into an ordered map. It accepts a
// dict (*ordered.Map, used as is), a string, or a list of strings/dicts whose
// entries are merged in order. A string starting with `{` is a JSON object;
// otherwise it is AIPerf's `key:value,key2:value2` form: items split on `,`,
// each on its first `:`, both sides trimmed, and the value coerced by
// coerceExtraValue.
//
//	ParseExtra("temperature:0.7,ignore_eos:true,stop:none")
//	// → {"temperature":0.7,"ignore_eos":true,"stop":null}
func ParseExtra(v any) (*ordered.Map, error) {
	switch x := v.(type) {
	case nil:
		return ordered.New(0), nil
	case *ordered.Map:
		return x, nil
	case string:
		return parseExtraString(x)
	case []string:
		out := ordered.New(len(x))
		for _, s := range x {
			m, err := parseExtraString(s)
			if err != nil {
				return nil, err
			}
			out.Merge(m)
		}
		return out, nil
	case []any:
		out := ordered.New(len(x))
		for i, e := range x {
			m, err := ParseExtra(e)
			if err != nil {
				return nil, fmt.Errorf("item %d: %w", i+1, err)
			}
			out.Merge(m)
		}
		return out, nil
	}
	return nil, fmt.Errorf("expected a dict or a \"key:value,...\" string, got %T", v)
}

func parseExtraString(s string) (*ordered.Map, error) {
	s = strings.TrimSpace(s)
	m := ordered.New(4)
	if s == "" {
		return m, nil
	}
	if strings.HasPrefix(s, "{") {
		if err := m.UnmarshalJSON([]byte(s)); err != nil {
			return nil, fmt.Errorf("%q is not a valid JSON object: %v", s, err)
		}
		return m, nil
	}
	for _, item := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(item, ":")
		if !ok {
			return nil, fmt.Errorf("item %q must be in key:value form", strings.TrimSpace(item))
		}
		key := strings.TrimSpace(k)
		if key == "" {
			return nil, fmt.Errorf("item %q has an empty key", strings.TrimSpace(item))
		}
		m.Set(key, coerceExtraValue(strings.TrimSpace(v)))
	}
	return m, nil
}

// coerceExtraValue converts one `key:value` value as AIPerf does:
// true/false (any case) → bool; none/null (any case) → nil; digits without a
// leading zero (or "0"), optionally after "-", → int64; digits with exactly
// one "." → float64; anything else stays a string.
func coerceExtraValue(v string) any {
	switch strings.ToLower(v) {
	case "true":
		return true
	case "false":
		return false
	case "none", "null":
		return nil
	}
	digits := strings.TrimPrefix(v, "-")
	if allDigits(digits) && (digits == "0" || digits[0] != '0') {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			return n
		}
	}
	if strings.Count(v, ".") == 1 && allDigits(strings.Replace(digits, ".", "", 1)) {
		if f, err := strconv.ParseFloat(v, 64); err == nil {
			return f
		}
	}
	return v
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// ParseHeaders parses the `headers` argument: a dict {name: value}, a list
// of "Name: Value" strings, a single such string, or a JSON object string.
func ParseHeaders(v any) ([][2]string, error) {
	var out [][2]string
	add := func(name, value string) error {
		name = strings.TrimSpace(name)
		value = strings.TrimSpace(value)
		if err := checkHeaderName(name); err != nil {
			return err
		}
		if strings.ContainsAny(value, "\r\n") {
			return fmt.Errorf("header %s: value contains a line break", name)
		}
		out = setHeader(out, name, value)
		return nil
	}
	addLine := func(line string) error {
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			return fmt.Errorf("header %q must be in \"Name: Value\" form", line)
		}
		return add(name, value)
	}
	switch x := v.(type) {
	case nil:
		return nil, nil
	case *ordered.Map:
		for _, k := range x.Keys() {
			val, _ := x.Get(k)
			if err := add(k, scalarString(val)); err != nil {
				return nil, err
			}
		}
	case string:
		if strings.HasPrefix(strings.TrimSpace(x), "{") {
			m := ordered.New(4)
			if err := m.UnmarshalJSON([]byte(x)); err != nil {
				return nil, fmt.Errorf("%q is not a valid JSON object: %v", x, err)
			}
			return ParseHeaders(m)
		}
		if err := addLine(x); err != nil {
			return nil, err
		}
	case []string:
		for _, line := range x {
			if err := addLine(line); err != nil {
				return nil, err
			}
		}
	case []any:
		for _, e := range x {
			line, ok := e.(string)
			if sec, isSecret := e.(plugin.Secret); isSecret {
				line, ok = sec.Reveal(), true
			}
			if !ok {
				return nil, fmt.Errorf("list items must be \"Name: Value\" strings, got %T", e)
			}
			if err := addLine(line); err != nil {
				return nil, err
			}
		}
	default:
		return nil, fmt.Errorf("expected a dict or a list of \"Name: Value\" strings, got %T", v)
	}
	return out, nil
}

func checkHeaderName(name string) error {
	if name == "" {
		return errors.New("empty header name")
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte("\"(),/:;<=>?@[\\]{}", c) >= 0 {
			return fmt.Errorf("invalid header name %q", name)
		}
	}
	return nil
}

// setHeader sets name to value, replacing (in place) a header of the same
// name in any case.
func setHeader(h [][2]string, name, value string) [][2]string {
	for i := range h {
		if strings.EqualFold(h[i][0], name) {
			h[i] = [2]string{name, value}
			return h
		}
	}
	return append(h, [2]string{name, value})
}

// AppendHeaders appends the headers of one request to dst, layered as
// AIPerf does (wire.md §3; later layers replace earlier ones of the same
// name, case-insensitively):
//
//  1. User-Agent;
//  2. X-Request-ID: requestID, and the session header (X-Correlation-ID):
//     correlationID — each only when non-empty;
//  3. the user's headers, then auth: the endpoint's own (Anthropic x-api-key
//     and anthropic-version) or `Authorization: Bearer <api_key>`;
//  4. the turn's extra headers;
//  5. Accept (text/event-stream when streaming, else application/json) and
//     Content-Type: application/json — these always win;
//  6. X-Session-Affinity: correlationID (when enabled and non-empty).
//
// turn may be nil. No Accept-Encoding is ever added. A request without turn
// extra headers copies a template layered once per Settings (headTemplate)
// and fills in the two ids; the result is the same as layering anew.
func (s *Settings) AppendHeaders(dst [][2]string, turn *dataset.Turn, requestID, correlationID string) [][2]string {
	if s.heads == nil || len(dst) > 0 || (turn != nil && len(turn.ExtraHeaders) > 0) {
		return s.layerHeaders(dst, turn, requestID, correlationID)
	}
	return s.headTemplate(requestID != "", correlationID != "").appendTo(dst, requestID, correlationID)
}

// layerHeaders is AppendHeaders done layer by layer, for any dst and turn.
func (s *Settings) layerHeaders(dst [][2]string, turn *dataset.Turn, requestID, correlationID string) [][2]string {
	h := dst
	h = append(h, [2]string{"User-Agent", s.UserAgent})
	if requestID != "" {
		h = setHeader(h, "X-Request-ID", requestID)
	}
	if correlationID != "" {
		h = setHeader(h, s.SessionHeader, correlationID)
	}
	for _, kv := range s.Headers {
		h = setHeader(h, kv[0], kv[1])
	}
	handled := false
	if s.wire != nil {
		var extra [][2]string
		extra, handled = s.wire.Headers(s.APIKey.Reveal())
		for _, kv := range extra {
			h = setHeader(h, kv[0], kv[1])
		}
	}
	if !handled && s.APIKey != "" {
		h = setHeader(h, "Authorization", "Bearer "+s.APIKey.Reveal())
	}
	if turn != nil {
		for _, kv := range turn.ExtraHeaders {
			h = setHeader(h, kv[0], kv[1])
		}
	}
	if s.Streaming {
		h = setHeader(h, "Accept", "text/event-stream")
	} else {
		h = setHeader(h, "Accept", "application/json")
	}
	ct := s.ContentType
	if ct == "" {
		ct = "application/json"
	}
	h = setHeader(h, "Content-Type", ct)
	if s.SessionAffinity && correlationID != "" {
		h = setHeader(h, "X-Session-Affinity", correlationID)
	}
	return h
}
