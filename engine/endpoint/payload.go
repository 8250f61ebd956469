package endpoint

import (
	"errors"
	"fmt"
	"strings"

	"github.com/loadstar/loadstar/engine/dataset"
	"github.com/loadstar/loadstar/engine/ordered"
)

// Helpers shared by the payload builders. Bodies are *ordered.Map values
// built fresh per request: the endpoint's extras and a turn's extra body are
// shared between goroutines, so they are merged (copied by reference at the
// top level) and never modified.

// flat returns every content of groups, in order.
func flat(groups []dataset.Named) []string {
	n := 0
	for _, g := range groups {
		n += len(g.Contents)
	}
	if n == 0 {
		return nil
	}
	out := make([]string, 0, n)
	for _, g := range groups {
		out = append(out, g.Contents...)
	}
	return out
}

// nonEmpty returns the non-empty strings of s.
func nonEmpty(s []string) []string {
	out := make([]string, 0, len(s))
	for _, x := range s {
		if x != "" {
			out = append(out, x)
		}
	}
	return out
}

// named returns the contents of the groups whose name is one of names, the
// groups of the first listed name that has any taking precedence.
func named(groups []dataset.Named, names ...string) ([]string, bool) {
	for _, name := range names {
		var out []string
		found := false
		for _, g := range groups {
			if g.Name == name {
				found = true
				out = append(out, g.Contents...)
			}
		}
		if found {
			return out, true
		}
	}
	return nil, false
}

// role returns the turn's role, "user" when unset.
func role(t *dataset.Turn) string {
	if t.Role == "" {
		return "user"
	}
	return t.Role
}

func toAny(s []string) []any {
	out := make([]any, len(s))
	for i, x := range s {
		out[i] = x
	}
	return out
}

// mergeExtras merges the endpoint's extras, then the turn's extra body
// (wire.md §4: later keys win, in place).
func mergeExtras(body *ordered.Map, s *Settings, t *dataset.Turn) {
	body.Merge(s.Extra)
	if t != nil {
		body.Merge(t.ExtraBody)
	}
}

// applyStreamOptions applies the LATEST stream_options rule (wire.md §5):
// when the merged `stream` is truthy, stream_options gets include_usage:true
// unless already present (a user's false is kept; null counts as absent; a
// non-dict value is left alone). defaults lists further keys set the same
// way (chat's per-chunk usage adds continuous_usage_stats).
func applyStreamOptions(body *ordered.Map, defaults ...string) {
	stream, _ := body.Get("stream")
	if !truthyValue(stream) {
		return
	}
	cur, present := body.Get("stream_options")
	var opts *ordered.Map
	switch x := cur.(type) {
	case nil:
		opts = ordered.New(1 + len(defaults))
	case *ordered.Map:
		opts = x.Clone()
	default:
		if present {
			return
		}
	}
	for _, k := range append([]string{"include_usage"}, defaults...) {
		if _, ok := opts.Get(k); !ok {
			opts.Set(k, true)
		}
	}
	body.Set("stream_options", opts)
}

// truthyValue is Python truthiness for JSON-like Go values.
func truthyValue(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case bool:
		return x
	case string:
		return x != ""
	case int:
		return x != 0
	case int64:
		return x != 0
	case float64:
		return x != 0
	case []any:
		return len(x) > 0
	case *ordered.Map:
		return x.Len() > 0
	}
	return true
}

// encode renders body as the compact wire JSON.
func encode(body *ordered.Map) ([]byte, error) {
	b, err := body.AppendJSON(make([]byte, 0, 512))
	if err != nil {
		return nil, fmt.Errorf("encoding payload: %w", err)
	}
	return b, nil
}

// audioPart splits an audio content into format and base64 data. It accepts
// "FORMAT,BASE64" and "data:audio/FORMAT;base64,BASE64".
func audioPart(s string) (format, data string, err error) {
	if rest, ok := strings.CutPrefix(s, "data:audio/"); ok {
		meta, b64, ok := strings.Cut(rest, ",")
		if !ok {
			return "", "", errors.New("audio data URL has no ',' before its data")
		}
		format, _, _ = strings.Cut(meta, ";")
		return format, b64, nil
	}
	format, data, ok := strings.Cut(s, ",")
	if !ok {
		return "", "", fmt.Errorf("audio content must be \"FORMAT,BASE64\" or a data:audio/ URL, got %q", abbrev(s))
	}
	return format, data, nil
}

// abbrev shortens s for an error message.
func abbrev(s string) string {
	if len(s) <= 40 {
		return s
	}
	return s[:37] + "..."
}

// maxTokens returns the turn's requested output length, -1 when not set.
func maxTokens(t *dataset.Turn) int {
	if t.MaxTokens < 0 {
		return -1
	}
	return t.MaxTokens
}

// chatContent renders a turn's content the chat way (wire.md §5): one text
// and no media → a bare string; otherwise parts (text, image_url,
// input_audio, video_url), empty strings skipped; no parts → "".
// textType names the text part type ("text" for chat, "input_text" /
// "output_text" for responses).
func chatContent(t *dataset.Turn, textType string, responses bool) (any, error) {
	texts := flat(t.Texts)
	images, audios, videos := flat(t.Images), flat(t.Audios), flat(t.Videos)
	if len(texts) == 1 && len(images) == 0 && len(audios) == 0 && len(videos) == 0 {
		return texts[0], nil
	}
	parts := make([]any, 0, len(texts)+len(images)+len(audios)+len(videos))
	for _, s := range texts {
		if s != "" {
			parts = append(parts, ordered.FromPairs("type", textType, "text", s))
		}
	}
	for _, s := range images {
		if s == "" {
			continue
		}
		if responses {
			parts = append(parts, ordered.FromPairs("type", "input_image", "image_url", s))
		} else {
			parts = append(parts, ordered.FromPairs("type", "image_url", "image_url", ordered.FromPairs("url", s)))
		}
	}
	for _, s := range audios {
		if s == "" {
			continue
		}
		format, data, err := audioPart(s)
		if err != nil {
			return nil, err
		}
		parts = append(parts, ordered.FromPairs("type", "input_audio",
			"input_audio", ordered.FromPairs("data", data, "format", format)))
	}
	for _, s := range videos {
		if s == "" {
			continue
		}
		if responses {
			return nil, errors.New("the responses endpoint does not accept video inputs")
		}
		parts = append(parts, ordered.FromPairs("type", "video_url", "video_url", ordered.FromPairs("url", s)))
	}
	if len(parts) == 0 {
		return "", nil
	}
	return parts, nil
}

// turnMessages walks the history of req the chat way: reset_context turns
// drop earlier history, raw messages are spliced as-is, every other turn
// becomes one message built by msg. prefix is what a reset keeps (system
// prompt, user context).
func turnMessages(req *Request, prefix []any, msg func(t *dataset.Turn) (any, error)) ([]any, error) {
	out := prefix
	keep := len(prefix)
	for i := range req.Turns {
		t := &req.Turns[i]
		if t.ResetContext {
			out = out[:keep]
		}
		if t.RawMessages != nil {
			out = append(out, t.RawMessages...)
			continue
		}
		m, err := msg(t)
		if err != nil {
			return nil, fmt.Errorf("turn %d: %w", i, err)
		}
		out = append(out, m)
	}
	return out, nil
}

// errNoTurns is returned when a request has nothing to send.
var errNoTurns = errors.New("request has no turns")
