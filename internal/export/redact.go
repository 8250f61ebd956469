package export

import (
	"encoding/json"
	"net/url"
	"strings"

	"github.com/loadstar/loadstar/engine/config"
	"github.com/loadstar/loadstar/engine/ordered"
	"github.com/loadstar/loadstar/engine/plugin"
	"github.com/loadstar/loadstar/engine/results"
)

// harmlessHeaders may keep their values in artifacts; every other header
// value is redacted, since any header can carry a credential (Cookie,
// X-Auth, a custom token header).
var harmlessHeaders = map[string]bool{
	"accept": true, "content-type": true, "user-agent": true, "anthropic-version": true,
	"anthropic-beta": true, "openai-beta": true,
}

// inputConfig is cfg.Describe() checked once more for secrets before it is
// written: secret-named keys, header values (in any of the forms an endpoint
// accepts: "Name: Value" strings, lists of them, dicts) and passwords in
// URLs are redacted.
func inputConfig(cfg *config.Benchmark) *ordered.Map {
	return redactMap(cfg.Describe(), false)
}

// InputConfigJSON is the input_config the artifacts write for cfg (secrets
// redacted), as JSON: a shard keeps it for the merge of its benchmark.
func InputConfigJSON(cfg *config.Benchmark) ([]byte, error) {
	return inputConfig(cfg).MarshalJSON()
}

// inputConfigOf is the summary's input_config: the one it carries (a
// merged run's), else its plan's.
func inputConfigOf(sum *results.Summary) any {
	if sum.InputConfig != nil {
		return json.RawMessage(sum.InputConfig)
	}
	return inputConfig(sum.Config)
}

func redactMap(m *ordered.Map, inHeaders bool) *ordered.Map {
	out := ordered.New(m.Len())
	for _, k := range m.Keys() {
		v, _ := m.Get(k)
		switch {
		case plugin.IsSecretName(k):
			out.Set(k, plugin.Redacted)
		case inHeaders && !harmlessHeaders[strings.ToLower(k)]:
			out.Set(k, plugin.Redacted)
		case inHeaders:
			out.Set(k, v) // a harmless header's value
		default:
			out.Set(k, redactValue(v, inHeaders || strings.Contains(strings.ToLower(k), "header")))
		}
	}
	return out
}

func redactValue(v any, inHeaders bool) any {
	switch x := v.(type) {
	case *ordered.Map:
		return redactMap(x, inHeaders)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = redactValue(e, inHeaders)
		}
		return out
	case []string:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = redactValue(e, inHeaders)
		}
		return out
	case [][2]string:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = redactValue(e[0]+": "+e[1], inHeaders)
		}
		return out
	case string:
		if inHeaders {
			return redactHeaderLine(x)
		}
		return redactURL(x)
	}
	return v
}

// redactHeaderLine turns "Name: Value" into "Name: <redacted>" unless the
// header is harmless.
func redactHeaderLine(s string) string {
	name, _, ok := strings.Cut(s, ":")
	if ok && harmlessHeaders[strings.ToLower(strings.TrimSpace(name))] {
		return s
	}
	if !ok {
		return plugin.Redacted
	}
	return name + ": " + plugin.Redacted
}

// redactURL hides the password of a URL with credentials.
func redactURL(s string) string {
	if !strings.Contains(s, "://") || !strings.Contains(s, "@") {
		return s
	}
	u, err := url.Parse(s)
	if err != nil || u.User == nil {
		return s
	}
	if _, has := u.User.Password(); has {
		u.User = url.UserPassword(u.User.Username(), "redacted")
		return u.String()
	}
	return s
}
