// Package ordered provides an insertion-ordered string-keyed map whose JSON
// form keeps key order, as request payloads must (AIPerf's bodies are Python
// dicts: built-in fields first, then extras; a later Set of an existing key
// replaces the value in place).
package ordered

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
)

// Map is an insertion-ordered map. The zero value is empty and ready to use.
// Values are JSON-compatible Go values: nil, bool, float64, int, int64,
// string, []any, *Map, json.RawMessage, or anything json.Marshal accepts.
type Map struct {
	keys []string
	vals map[string]any
}

// New returns an empty map with room for n keys.
func New(n int) *Map { return &Map{keys: make([]string, 0, n), vals: make(map[string]any, n)} }

// FromPairs builds a map from alternating key, value arguments.
func FromPairs(kv ...any) *Map {
	m := New(len(kv) / 2)
	for i := 0; i+1 < len(kv); i += 2 {
		m.Set(kv[i].(string), kv[i+1])
	}
	return m
}

// Len returns the number of keys.
func (m *Map) Len() int {
	if m == nil {
		return 0
	}
	return len(m.keys)
}

// Keys returns the keys in order. The slice must not be modified.
func (m *Map) Keys() []string {
	if m == nil {
		return nil
	}
	return m.keys
}

// Get returns the value of key and whether it is present.
func (m *Map) Get(key string) (any, bool) {
	if m == nil {
		return nil, false
	}
	v, ok := m.vals[key]
	return v, ok
}

// Set adds key at the end, or replaces its value in place if present.
func (m *Map) Set(key string, v any) {
	if m.vals == nil {
		m.vals = make(map[string]any)
	}
	if _, ok := m.vals[key]; !ok {
		m.keys = append(m.keys, key)
	}
	m.vals[key] = v
}

// Delete removes key, keeping the order of the others.
func (m *Map) Delete(key string) {
	if m == nil {
		return
	}
	if _, ok := m.vals[key]; !ok {
		return
	}
	delete(m.vals, key)
	for i, k := range m.keys {
		if k == key {
			m.keys = append(m.keys[:i], m.keys[i+1:]...)
			break
		}
	}
}

// Merge sets every key of other into m in other's order (later keys win).
func (m *Map) Merge(other *Map) {
	for _, k := range other.Keys() {
		m.Set(k, other.vals[k])
	}
}

// Clone returns a shallow copy.
func (m *Map) Clone() *Map {
	c := New(m.Len())
	for _, k := range m.Keys() {
		c.Set(k, m.vals[k])
	}
	return c
}

// MarshalJSON writes compact JSON in key order, UTF-8 literal, no HTML escaping.
func (m *Map) MarshalJSON() ([]byte, error) {
	var buf bytes.Buffer
	if err := m.writeJSON(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// AppendJSON appends the compact JSON form of m to dst.
func (m *Map) AppendJSON(dst []byte) ([]byte, error) {
	buf := bytes.NewBuffer(dst)
	err := m.writeJSON(buf)
	return buf.Bytes(), err
}

func (m *Map) writeJSON(buf *bytes.Buffer) error {
	if m == nil {
		buf.WriteString("null")
		return nil
	}
	buf.WriteByte('{')
	for i, k := range m.keys {
		if i > 0 {
			buf.WriteByte(',')
		}
		if err := writeValue(buf, k); err != nil {
			return err
		}
		buf.WriteByte(':')
		if err := writeValue(buf, m.vals[k]); err != nil {
			return fmt.Errorf("key %q: %w", k, err)
		}
	}
	buf.WriteByte('}')
	return nil
}

func writeValue(buf *bytes.Buffer, v any) error {
	switch x := v.(type) {
	case *Map:
		return x.writeJSON(buf)
	case []any:
		buf.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				buf.WriteByte(',')
			}
			if err := writeValue(buf, e); err != nil {
				return err
			}
		}
		buf.WriteByte(']')
		return nil
	case json.RawMessage:
		buf.Write(x)
		return nil
	}
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return err
	}
	// Encoder.Encode appends a newline; payloads have none.
	buf.Truncate(buf.Len() - 1)
	return nil
}

// UnmarshalJSON reads a JSON object keeping key order; nested objects become
// *Map and arrays []any; numbers are float64, or int64 when integral and
// written without a fraction or exponent.
func (m *Map) UnmarshalJSON(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return fmt.Errorf("ordered.Map: expected a JSON object, got %v", tok)
	}
	*m = Map{}
	if err := m.readObject(dec); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return fmt.Errorf("ordered.Map: trailing data after object")
	}
	return nil
}

// Decode parses any JSON value with ordered objects (see UnmarshalJSON).
func Decode(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	v, err := readValue(dec)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("trailing data after JSON value")
	}
	return v, nil
}

func (m *Map) readObject(dec *json.Decoder) error {
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		key, _ := tok.(string)
		v, err := readValue(dec)
		if err != nil {
			return err
		}
		m.Set(key, v)
	}
	_, err := dec.Token() // '}'
	return err
}

func readValue(dec *json.Decoder) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			m := &Map{}
			return m, m.readObject(dec)
		case '[':
			list := []any{}
			for dec.More() {
				v, err := readValue(dec)
				if err != nil {
					return nil, err
				}
				list = append(list, v)
			}
			_, err := dec.Token() // ']'
			return list, err
		}
		return nil, fmt.Errorf("unexpected %v", t)
	case json.Number:
		if i, err := t.Int64(); err == nil && !bytes.ContainsAny([]byte(t), ".eE") {
			return i, nil
		}
		return t.Float64()
	default:
		return t, nil
	}
}
