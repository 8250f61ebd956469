package resultsdir

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// decodeOrdered decodes one JSON value keeping object keys in file order:
// objects become []Field, arrays []any, numbers float64. Python's
// non-standard Infinity, -Infinity and NaN literals are accepted.
func decodeOrdered(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	v, err := decodeValue(dec)
	if err != nil && (bytes.Contains(data, []byte("Infinity")) || bytes.Contains(data, []byte("NaN"))) {
		dec = json.NewDecoder(bytes.NewReader(quoteNonFinite(data)))
		dec.UseNumber()
		v, err = decodeValue(dec)
	}
	return v, err
}

func decodeValue(dec *json.Decoder) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			var fields []Field
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				k, _ := kt.(string)
				v, err := decodeValue(dec)
				if err != nil {
					return nil, err
				}
				fields = append(fields, Field{Key: k, Value: v})
			}
			if _, err := dec.Token(); err != nil {
				return nil, err
			}
			if fields == nil {
				fields = []Field{}
			}
			return fields, nil
		case '[':
			list := []any{}
			for dec.More() {
				v, err := decodeValue(dec)
				if err != nil {
					return nil, err
				}
				list = append(list, v)
			}
			if _, err := dec.Token(); err != nil {
				return nil, err
			}
			return list, nil
		}
		return nil, fmt.Errorf("unexpected %v", t)
	case json.Number:
		f, err := strconv.ParseFloat(string(t), 64)
		if err != nil {
			return nil, err
		}
		return f, nil
	case string:
		switch t {
		case nonFinitePos:
			return math.Inf(1), nil
		case nonFiniteNeg:
			return math.Inf(-1), nil
		case nonFiniteNaN:
			return math.NaN(), nil
		}
		return t, nil
	}
	return tok, nil // bool or nil
}

// Markers for non-finite literals rewritten by quoteNonFinite.
const (
	nonFinitePos = "\x00+inf"
	nonFiniteNeg = "\x00-inf"
	nonFiniteNaN = "\x00nan"
)

// quoteNonFinite rewrites bare Infinity, -Infinity and NaN (outside
// strings) into marker strings the decoder turns back into numbers.
func quoteNonFinite(data []byte) []byte {
	var out bytes.Buffer
	inStr, esc := false, false
	for i := 0; i < len(data); i++ {
		c := data[i]
		if inStr {
			out.WriteByte(c)
			switch {
			case esc:
				esc = false
			case c == '\\':
				esc = true
			case c == '"':
				inStr = false
			}
			continue
		}
		rest := data[i:]
		switch {
		case c == '"':
			inStr = true
			out.WriteByte(c)
		case bytes.HasPrefix(rest, []byte("-Infinity")):
			out.WriteString(`"\u0000-inf"`)
			i += len("-Infinity") - 1
		case bytes.HasPrefix(rest, []byte("Infinity")):
			out.WriteString(`"\u0000+inf"`)
			i += len("Infinity") - 1
		case bytes.HasPrefix(rest, []byte("NaN")):
			out.WriteString(`"\u0000nan"`)
			i += len("NaN") - 1
		default:
			out.WriteByte(c)
		}
	}
	return out.Bytes()
}

// get returns the value of key in an object, or nil.
func get(obj []Field, key string) any {
	for _, f := range obj {
		if f.Key == key {
			return f.Value
		}
	}
	return nil
}

func object(v any) []Field {
	o, _ := v.([]Field)
	return o
}

func str(v any) string {
	switch t := v.(type) {
	case string:
		return t
	case float64:
		return strconv.FormatFloat(t, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(t)
	}
	return ""
}

// num reads a number; null and missing are NaN, "inf"-like strings infinite.
func num(v any) float64 {
	switch t := v.(type) {
	case float64:
		return t
	case string:
		switch strings.ToLower(strings.TrimSpace(t)) {
		case "inf", "+inf", "infinity":
			return math.Inf(1)
		case "-inf", "-infinity":
			return math.Inf(-1)
		}
		if f, err := strconv.ParseFloat(t, 64); err == nil {
			return f
		}
	case bool:
		if t {
			return 1
		}
		return 0
	}
	return math.NaN()
}

// FormatValue renders a decoded JSON value compactly for people: objects
// as {k: v, ...}, lists as [a, b].
func FormatValue(v any) string {
	var b strings.Builder
	writeValue(&b, v)
	return b.String()
}

func writeValue(w io.StringWriter, v any) {
	switch t := v.(type) {
	case nil:
		w.WriteString("null")
	case []Field:
		w.WriteString("{")
		for i, f := range t {
			if i > 0 {
				w.WriteString(", ")
			}
			w.WriteString(f.Key + ": ")
			writeValue(w, f.Value)
		}
		w.WriteString("}")
	case []any:
		w.WriteString("[")
		for i, x := range t {
			if i > 0 {
				w.WriteString(", ")
			}
			writeValue(w, x)
		}
		w.WriteString("]")
	case string:
		w.WriteString(t)
	default:
		w.WriteString(str(v))
	}
}
