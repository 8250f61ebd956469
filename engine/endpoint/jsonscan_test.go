package endpoint

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/loadstar/loadstar/engine/plugin"
	"github.com/loadstar/loadstar/engine/record"
	"github.com/loadstar/loadstar/engine/sse"
)

// stringCorpus holds JSON string literals with every escape form, as
// servers write them (including the fixtures' control characters).
var stringCorpus = []string{
	`""`, `"plain"`, `"\u001b"`, `"\u0001"`, `"\ufffd"`, `"�"`, `"tab\there"`, `"q\"uote"`,
	`"back\\slash"`, `"\\\""`, `"sl\/ash"`, `"\b\f\n\r\t"`, `"\u00e9\u65e5\u672c"`,
	`"\ud83d\ude00 emoji"`, `"lone \ud83d high"`, `"lone \ude00 low"`, `"\ud83d\u0041 high then A"`,
	`"\uD83D\uDE00 upper hex"`, `"` + strings.Repeat("long ", 30) + `\n"`, `"ends with \\"`,
}

// TestAppendStringMatchesEncodingJSON decodes every corpus string and
// compares with encoding/json.
func TestAppendStringMatchesEncodingJSON(t *testing.T) {
	for _, raw := range stringCorpus {
		var want string
		if err := json.Unmarshal([]byte(raw), &want); err != nil {
			t.Fatalf("corpus %s: %v", raw, err)
		}
		got, ok := appendString(nil, []byte(raw))
		if !ok || string(got) != want {
			t.Errorf("appendString(%s) = %q, %v; want %q", raw, got, ok, want)
		}
	}
	for _, bad := range []string{`"\x"`, `"\u12"`, `"\u12G4"`, `"abc\"`, `abc`, `"`} {
		if got, ok := appendString(nil, []byte(bad)); ok {
			t.Errorf("appendString(%s) = %q, accepted", bad, got)
		}
	}
}

func FuzzAppendString(f *testing.F) {
	for _, raw := range stringCorpus {
		var s string
		_ = json.Unmarshal([]byte(raw), &s)
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) {
			return
		}
		enc, _ := json.Marshal(s)
		got, ok := appendString(nil, enc)
		if !ok || string(got) != s {
			t.Fatalf("round trip of %q via %s = %q, %v", s, enc, got, ok)
		}
		// Wrapped in an object and an array, the scanner finds its end.
		obj := []byte(`{"a":` + string(enc) + `,"b":[1,{"c":` + string(enc) + `}],"d":true}`)
		var f [2][]byte
		if !fields(obj, []string{"d", "b"}, f[:]) || string(f[0]) != "true" {
			t.Fatalf("fields(%s) = %q", obj, f)
		}
		if v, ok := appendString(nil, field(index(f[1], 1), "c")); !ok || string(v) != s {
			t.Fatalf("nested value %q", v)
		}
	})
}

// FuzzChatParse feeds arbitrary bytes to the chat parser: it must never
// panic, and whatever it records is well formed.
func FuzzChatParse(f *testing.F) {
	f.Add([]byte(chunk(`{"content":"a\u00e9"}`)))
	f.Add([]byte(`{"choices":[],"usage":{"prompt_tokens":1}}`))
	f.Add([]byte(`{"error":{"code":429,"message":"x"}}`))
	f.Add([]byte(`{"choices":[{"delta":{"tool_calls":[{"function":{"name":"f","arguments":"{"}}]}}]}`))
	f.Add([]byte(`{"choices":[{"delta":{"content":"unterminated`))
	f.Add([]byte(`{"choices":[{"delta":{"content":"\ud83d"}}]}`))
	p := newEndpoint(f, "chat", plugin.Args{"model": []string{"m"}}).NewParser()
	f.Fuzz(func(t *testing.T, data []byte) {
		rec := record.New()
		p.Message(&sse.Message{Data: data, HasData: true, PerfNs: 1}, rec)
		p.Body("application/json", data, 1, rec)
		for i := range rec.Responses {
			r := &rec.Responses[i]
			_ = rec.OutputText(r)
			_ = rec.ReasoningText(r)
		}
	})
}

func TestScannerBasics(t *testing.T) {
	obj := []byte(` { "a" : [1, "x]}", {"b": null}] , "k\u0065y":"v", "n": -1.5e3 , "t": true } `)
	var f [4][]byte
	if !fields(obj, []string{"a", "key", "n", "t"}, f[:]) {
		t.Fatal("not an object")
	}
	if string(f[0]) != `[1, "x]}", {"b": null}]` || string(f[1]) != `"v"` || string(f[2]) != "-1.5e3" || string(f[3]) != "true" {
		t.Errorf("fields = %q", f)
	}
	if n := arrayLen(f[0]); n != 3 {
		t.Errorf("arrayLen = %d", n)
	}
	if string(index(f[0], 1)) != `"x]}"` || index(f[0], 3) != nil {
		t.Error("index")
	}
	for _, bad := range []string{`{"a":}`, `{"a" 1}`, `{"a":[1,}`, `{a:1}`, `{"a":1`, `[1,2`} {
		var g [1][]byte
		if fields([]byte(bad), []string{"zz"}, g[:]) && bad[0] == '{' {
			t.Errorf("fields(%s) accepted malformed input", bad)
		}
	}
	truthyCases := map[string]bool{`null`: false, `false`: false, `0`: false, `0.0`: false, `""`: false, `[]`: false,
		`{ }`: false, `true`: true, `1`: true, `"x"`: true, `[0]`: true, `{"a":1}`: true, `-2`: true}
	for raw, want := range truthyCases {
		if truthy([]byte(raw)) != want {
			t.Errorf("truthy(%s) != %v", raw, want)
		}
	}
	for raw, want := range map[string]int64{"0": 0, "42": 42, "-7": -7, "12.0": 12, "1e2": 100} {
		if n, ok := intValue([]byte(raw)); !ok || n != want {
			t.Errorf("intValue(%s) = %d, %v", raw, n, ok)
		}
	}
	for _, raw := range []string{"1.5", `"3"`, "null", "", "9999999999999999999999"} {
		if n, ok := intValue([]byte(raw)); ok {
			t.Errorf("intValue(%s) = %d, accepted", raw, n)
		}
	}
}
