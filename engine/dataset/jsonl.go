package dataset

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/loadstar/loadstar/engine/ordered"
)

// maxLineBytes bounds one JSONL line (a line with inline media can be large).
const maxLineBytes = 256 << 20

// eachLine streams the non-empty lines of a JSONL file to f with their
// 1-based line numbers; the file is never read whole. The line slice is only
// valid during the call.
func eachLine(ctx context.Context, path string, f func(line []byte, n int) error) error {
	file, err := os.Open(path)
	if err != nil {
		return err
	}
	defer file.Close()
	sc := bufio.NewScanner(file)
	sc.Buffer(make([]byte, 0, 64<<10), maxLineBytes)
	n := 0
	for sc.Scan() {
		n++
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		if n%4096 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		if err := f(line, n); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return fmt.Errorf("%s:%d: line longer than %d MiB", path, n+1, maxLineBytes>>20)
		}
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// decodeStrict unmarshals one record, rejecting unknown fields and trailing
// data, with errors that name the field.
func decodeStrict(data []byte, v any, fields string) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err, fields)
	}
	if dec.More() {
		return fmt.Errorf("trailing data after the JSON object (one object per line)")
	}
	return nil
}

func jsonError(err error, fields string) error {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te):
		if te.Field == "" {
			return fmt.Errorf("expected a JSON object, got %s", te.Value)
		}
		return fmt.Errorf("field %q: expected %s, got %s", te.Field, jsonTypeName(te.Type.String()), te.Value)
	case errors.As(err, &se):
		return fmt.Errorf("invalid JSON at byte %d: %v", se.Offset, se)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("invalid JSON: unexpected end of line")
	case strings.HasPrefix(err.Error(), "json: unknown field"):
		return fmt.Errorf("%s (known fields: %s)", strings.TrimPrefix(err.Error(), "json: "), fields)
	}
	return err
}

func jsonTypeName(goType string) string {
	switch {
	case strings.Contains(goType, "float"):
		return "a number"
	case strings.Contains(goType, "int"):
		return "an integer"
	case goType == "string" || goType == "*string":
		return "a string"
	case strings.HasPrefix(goType, "[]"):
		return "a list"
	}
	return goType
}

// sessionKey reads a session_id that may be a string or a number.
func sessionKey(raw json.RawMessage) (string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return "", nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return s, nil
	}
	var n json.Number
	if err := json.Unmarshal(raw, &n); err == nil {
		return n.String(), nil
	}
	return "", fmt.Errorf("field \"session_id\": expected a string or a number, got %s", raw)
}

// turnRecord is one turn in the single_turn / multi_turn formats (AIPerf's
// field names).
type turnRecord struct {
	Type         string          `json:"type"`
	SessionID    json.RawMessage `json:"session_id"`
	Text         json.RawMessage `json:"text"`
	Texts        json.RawMessage `json:"texts"`
	Image        json.RawMessage `json:"image"`
	Images       json.RawMessage `json:"images"`
	Audio        json.RawMessage `json:"audio"`
	Audios       json.RawMessage `json:"audios"`
	Video        json.RawMessage `json:"video"`
	Videos       json.RawMessage `json:"videos"`
	Timestamp    *float64        `json:"timestamp"`
	Delay        *float64        `json:"delay"`
	Role         string          `json:"role"`
	OutputLength *int            `json:"output_length"`
	Extra        json.RawMessage `json:"extra"`
}

const turnFields = "text, texts, image, images, audio, audios, video, videos, timestamp, delay, role, session_id, output_length, extra"

type modality uint8

const (
	modText modality = iota
	modImage
	modAudio
	modVideo
)

// turn converts a record into a Turn; dir resolves local media paths.
func (rec *turnRecord) turn(dir string, timing bool) (Turn, error) {
	t := NewTurn()
	t.Role = rec.Role
	var err error
	if t.Texts, err = named(rec.Text, rec.Texts, "text", "texts", modText, dir); err != nil {
		return t, err
	}
	if t.Images, err = named(rec.Image, rec.Images, "image", "images", modImage, dir); err != nil {
		return t, err
	}
	if t.Audios, err = named(rec.Audio, rec.Audios, "audio", "audios", modAudio, dir); err != nil {
		return t, err
	}
	if t.Videos, err = named(rec.Video, rec.Videos, "video", "videos", modVideo, dir); err != nil {
		return t, err
	}
	if len(t.Texts)+len(t.Images)+len(t.Audios)+len(t.Videos) == 0 {
		return t, fmt.Errorf("no content: give text, texts, image(s), audio(s) or video(s)")
	}
	if rec.Timestamp != nil && rec.Delay != nil {
		return t, fmt.Errorf("fields \"timestamp\" and \"delay\": give one, not both")
	}
	if rec.Timestamp != nil {
		if !timing {
			return t, fmt.Errorf("field \"timestamp\": not allowed in this format")
		}
		if *rec.Timestamp < 0 {
			return t, fmt.Errorf("field \"timestamp\": must be >= 0 (milliseconds), got %v", *rec.Timestamp)
		}
		t.TimestampMs, t.HasTimestamp = *rec.Timestamp, true
	}
	if rec.Delay != nil {
		if !timing {
			return t, fmt.Errorf("field \"delay\": not allowed in this format")
		}
		if *rec.Delay < 0 {
			return t, fmt.Errorf("field \"delay\": must be >= 0 (milliseconds), got %v", *rec.Delay)
		}
		t.DelayMs, t.HasDelay = *rec.Delay, true
	}
	if rec.OutputLength != nil {
		if *rec.OutputLength < 0 {
			return t, fmt.Errorf("field \"output_length\": must be >= 0, got %d", *rec.OutputLength)
		}
		t.MaxTokens = *rec.OutputLength
	}
	if t.ExtraBody, err = extraMap(rec.Extra); err != nil {
		return t, err
	}
	return t, nil
}

func extraMap(raw json.RawMessage) (*ordered.Map, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	m := &ordered.Map{}
	if err := m.UnmarshalJSON(raw); err != nil {
		return nil, fmt.Errorf("field \"extra\": expected a JSON object: %v", err)
	}
	return m, nil
}

// named parses a singular field (a string) and its plural (a list of
// strings, or of {name, contents} objects); at most one may be given.
func named(one, many json.RawMessage, oneName, manyName string, mod modality, dir string) ([]Named, error) {
	has := func(r json.RawMessage) bool { return len(r) > 0 && string(r) != "null" }
	if has(one) && has(many) {
		return nil, fmt.Errorf("fields %q and %q: give one, not both", oneName, manyName)
	}
	switch {
	case has(one):
		var s string
		if err := json.Unmarshal(one, &s); err != nil {
			var list []string
			if err2 := json.Unmarshal(one, &list); err2 != nil {
				return nil, fmt.Errorf("field %q: expected a string, got %s", oneName, short(one))
			}
			return namedStrings(list, oneName, mod, dir)
		}
		return namedStrings([]string{s}, oneName, mod, dir)
	case has(many):
		var list []string
		if err := json.Unmarshal(many, &list); err == nil {
			return namedStrings(list, manyName, mod, dir)
		}
		var groups []struct {
			Name     string   `json:"name"`
			Contents []string `json:"contents"`
		}
		if err := json.Unmarshal(many, &groups); err != nil {
			return nil, fmt.Errorf("field %q: expected a list of strings or of {\"name\", \"contents\"} objects, got %s", manyName, short(many))
		}
		out := make([]Named, len(groups))
		for i, g := range groups {
			for j, c := range g.Contents {
				v, err := media(c, mod, dir)
				if err != nil {
					return nil, fmt.Errorf("field %q[%d].contents[%d]: %w", manyName, i, j, err)
				}
				g.Contents[j] = v
			}
			out[i] = Named{Name: g.Name, Contents: g.Contents}
		}
		return out, nil
	}
	return nil, nil
}

func namedStrings(list []string, field string, mod modality, dir string) ([]Named, error) {
	if len(list) == 0 {
		return nil, nil
	}
	for i, c := range list {
		v, err := media(c, mod, dir)
		if err != nil {
			return nil, fmt.Errorf("field %q[%d]: %w", field, i, err)
		}
		list[i] = v
	}
	return []Named{{Name: strings.TrimSuffix(field, "s"), Contents: list}}, nil
}

// media passes URLs and data URLs through and inlines local files as
// base64 (audio as "FORMAT,BASE64", the others as data URLs).
func media(s string, mod modality, dir string) (string, error) {
	if mod == modText {
		return s, nil
	}
	if strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://") || strings.HasPrefix(s, "data:") {
		return s, nil
	}
	if mod == modAudio {
		if f, b64, ok := strings.Cut(s, ","); ok && !strings.ContainsAny(f, "/\\.") && len(b64) > 0 {
			return s, nil // already FORMAT,BASE64
		}
	}
	p := s
	if !filepath.IsAbs(p) {
		p = filepath.Join(dir, p)
	}
	data, err := os.ReadFile(p)
	if err != nil {
		return "", fmt.Errorf("not a URL, and reading it as a local file failed: %v", err)
	}
	ext := strings.TrimPrefix(strings.ToLower(filepath.Ext(p)), ".")
	enc := base64.StdEncoding.EncodeToString(data)
	switch mod {
	case modAudio:
		if ext == "" {
			ext = "wav"
		}
		return ext + "," + enc, nil
	case modImage:
		if ext == "jpg" {
			ext = "jpeg"
		}
		return "data:image/" + ext + ";base64," + enc, nil
	}
	return "data:video/" + ext + ";base64," + enc, nil
}

func short(raw json.RawMessage) string {
	if len(raw) > 40 {
		return string(raw[:40]) + "..."
	}
	return string(raw)
}

// lineError prefixes err with path:line.
func lineError(path string, n int, err error) error {
	return fmt.Errorf("%s:%d: %w", path, n, err)
}

func sessionName(key string, n int) string {
	if key != "" {
		return key
	}
	return "session_" + strconv.Itoa(n)
}
