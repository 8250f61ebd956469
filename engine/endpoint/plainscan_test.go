package endpoint

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/loadstar/loadstar/engine/plugin"
	"github.com/loadstar/loadstar/engine/record"
	"github.com/loadstar/loadstar/engine/sse"
)

// TestNameSets builds every name set of the package: each finds its own
// names and nothing else, including keys that share a name's first 8
// bytes, length or first and last byte.
func TestNameSets(t *testing.T) {
	sets := map[string]*nameSet{"top": choicesTopSet, "usage": usageSet, "chatChoice": chatChoiceSet,
		"chatDelta": chatDeltaSet, "text": textSet, "tgiTop": tgiTopSet, "tgiToken": tgiTokenSet}
	for name, s := range sets {
		for k, n := range s.names {
			if got := s.index([]byte(n), keyWord([]byte(n))); got != k {
				t.Errorf("%s: index(%q) = %d; want %d", name, n, got, k)
			}
			for _, miss := range []string{n + "s", n[:len(n)-1], strings.ToUpper(n), n[:len(n)-1] + "_",
				"_" + n[1:], n + "_details_x"} {
				if got := s.index([]byte(miss), keyWord([]byte(miss))); got >= 0 && s.names[got] != miss {
					t.Errorf("%s: index(%q) = %d (%q)", name, miss, got, s.names[got])
				}
			}
		}
		for _, miss := range []string{"", "x", "id", "model", "created", "system_fingerprint"} {
			if got := s.index([]byte(miss), keyWord([]byte(miss))); got >= 0 {
				t.Errorf("%s: index(%q) = %d", name, miss, got)
			}
		}
	}
}

// lenientParser is a parser with both scans, to compare them.
type lenientParser interface {
	parse(obj []byte, perfNs int64, rec *record.Record, errType string)
	parseLenient(obj []byte, perfNs int64, rec *record.Record, errType string)
}

// plainSets are the name sets each parser's single pass uses.
var plainSets = map[string][2]*nameSet{"chat": {chatChoiceSet, chatDeltaSet}, "completions": {textSet, nil}}

// parseBoth parses data with the single pass (falling back as it does) and
// with the lenient scan alone; plain says whether the single pass took it.
func parseBoth(t testing.TB, endpoint string, data []byte) (fast, lenient *record.Record, plain bool) {
	args := plugin.Args{"model": []string{"m"}}
	fast, lenient = record.New(), record.New()
	newEndpoint(t, endpoint, args).NewParser().(lenientParser).parse(data, 1, fast, errAPI)
	newEndpoint(t, endpoint, args).NewParser().(lenientParser).parseLenient(data, 1, lenient, errAPI)
	sets := plainSets[endpoint]
	var s choicesScan
	return fast, lenient, s.scan(data, sets[0], sets[1])
}

func checkSameParse(t testing.TB, endpoint string, data []byte) bool {
	t.Helper()
	fast, lenient, plain := parseBoth(t, endpoint, data)
	if !reflect.DeepEqual(fast, lenient) {
		t.Fatalf("%s %q (plain %v):\nsingle pass %q usage %+v error %+v\nlenient     %q usage %+v error %+v",
			endpoint, data, plain, events(fast), fast.Usage, fast.Error, events(lenient), lenient.Usage, lenient.Error)
	}
	return plain
}

// TestPlainScanTakesRealServerJSON: every chat and completions answer of
// the captures from real servers (and the benchmarks' messages) takes the
// single pass, and parses as the lenient scan does.
func TestPlainScanTakesRealServerJSON(t *testing.T) {
	type input struct {
		endpoint string
		data     []byte
	}
	var inputs []input
	for name, fc := range fixtureCases {
		if plainSets[fc.endpoint][0] == nil {
			continue
		}
		body := fixture(t, name)
		if filepath.Dir(name) == "json" {
			inputs = append(inputs, input{fc.endpoint, body})
			continue
		}
		var r sse.Reader
		collect := func(m *sse.Message) {
			if d := m.Data; len(d) > 0 && d[0] == '{' {
				inputs = append(inputs, input{fc.endpoint, bytes.Clone(d)})
			}
		}
		r.Feed(body, 1, collect)
		r.Close(2, collect)
	}
	for _, d := range []string{mockChatBody,
		`{"id":"x","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"line\n\"quoted\" \u00e9"},"finish_reason":null}]}`,
		"{\n  \"object\": \"chat.completion\",\n  \"choices\": [\n    {\"message\": {\"content\": \"pretty\"}}\n  ]\n}\n",
	} {
		inputs = append(inputs, input{"chat", []byte(d)})
	}
	if len(inputs) < 30 {
		t.Fatalf("only %d inputs", len(inputs))
	}
	for _, in := range inputs {
		if !checkSameParse(t, in.endpoint, in.data) {
			t.Errorf("%s: the single pass gave up on %q", in.endpoint, in.data)
		}
	}
}

// mockChatBody is loadstar mock's non-streaming chat answer.
const mockChatBody = `{"id":"chatcmpl-8cbdd3ac96a288727cc60f6c","object":"chat.completion","created":1796316319,` +
	`"model":"mock-model","system_fingerprint":"fp_loadstar_mock","choices":[{"index":0,"message":{"role":"assistant",` +
	`"content":" movie, simple no allow sweet happen industry interest computer been, know bath head."},` +
	`"logprobs":null,"finish_reason":"length"}],"usage":{"prompt_tokens":4,"completion_tokens":16,"total_tokens":20}}`

// plainCases are inputs whose handling inside the single pass differs from
// the lenient scan's (it walks into members, gives up on what is not plain
// JSON): each must parse as the lenient scan does, to the result given.
var plainCases = []struct {
	name, endpoint, data string
	plain                bool // the single pass takes it (else the lenient scan runs)
	events               []string
	usage                record.Usage
	err                  string // the record's error message, if any
}{
	{"chunk", "chat", `{"object":"chat.completion.chunk","choices":[{"delta":{"content":"x"}}]}`, true,
		[]string{"text:x"}, record.NoUsage, ""},
	{"no object takes delta", "chat", `{"choices":[{"delta":{"content":"d"},"message":{"content":"m"}}]}`, true,
		[]string{"text:d"}, record.NoUsage, ""},
	{"no object takes message", "chat", `{"choices":[{"message":{"content":"m"}}]}`, true,
		[]string{"text:m"}, record.NoUsage, ""},
	{"delta not an object hides message", "chat", `{"choices":[{"delta":"x","message":{"content":"m"}}]}`, true,
		nil, record.NoUsage, ""},
	{"object after choices", "chat", `{"choices":[{"message":{"content":"m"},"delta":{"content":"d"}}],"object":"chat.completion"}`, true,
		[]string{"text:m"}, record.NoUsage, ""},
	{"other object", "chat", `{"object":"text_completion","choices":[{"delta":{"content":"x"}}]}`, true,
		nil, record.NoUsage, ""},
	{"empty choices with usage", "chat", `{"object":"chat.completion.chunk","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":5}}`, true,
		[]string{"usage"}, usage(3, 5, -1, -1, -1, -1, -1), ""},
	{"non-object first choice", "chat", `{"choices":["x",{"delta":{"content":"y"}}]}`, true,
		nil, record.NoUsage, ""},
	{"null first choice", "chat", `{"choices":[null,{"delta":{"content":"y"}}]}`, true, nil, record.NoUsage, ""},
	{"choices an object", "chat", `{"choices":{"delta":{"content":"y"}}}`, true, nil, record.NoUsage, ""},
	{"second choice ignored", "chat", `{"choices":[{"delta":{"content":"a"}},{"delta":{"content":"b"}}]}`, true,
		[]string{"text:a"}, record.NoUsage, ""},
	{"duplicate choices", "chat", `{"choices":[{"delta":{"content":"a"}}],"choices":[{"delta":{"content":"b"}}]}`, true,
		[]string{"text:a"}, record.NoUsage, ""},
	{"duplicate delta", "chat", `{"choices":[{"delta":{"content":"a"},"delta":{"content":"b"}}]}`, true,
		[]string{"text:a"}, record.NoUsage, ""},
	{"duplicate content", "chat", `{"choices":[{"delta":{"content":"a","content":"b"}}]}`, true,
		[]string{"text:a"}, record.NoUsage, ""},
	{"duplicate usage", "chat", `{"usage":{"prompt_tokens":1},"usage":{"prompt_tokens":2}}`, true,
		[]string{"usage"}, usage(1, -1, -1, -1, -1, -1, -1), ""},
	{"null synonym skipped", "chat", `{"usage":{"prompt_tokens":null,"input_tokens":7,"cache_read_input_tokens":3}}`, true,
		[]string{"usage"}, usage(10, -1, -1, -1, 3, -1, -1), ""},
	{"usage details", "chat", `{"usage":{"completion_tokens":5,"completion_tokens_details":{"reasoning_tokens":2},"prompt_tokens_details":{"cached_tokens":1}}}`, true,
		[]string{"usage"}, usage(-1, 5, -1, 2, 1, -1, -1), ""},
	{"usage envelope", "chat", `{"usage":{"usageMetadata":{"promptTokenCount":4,"candidatesTokenCount":2}}}`, true,
		[]string{"usage"}, usage(4, 2, -1, -1, -1, -1, -1), ""},
	{"usage not an object", "chat", `{"usage":[1],"choices":[{"delta":{"content":"x"}}]}`, true,
		[]string{"text:x"}, record.NoUsage, ""},
	{"empty usage", "chat", `{"usage":{}}`, true, nil, record.NoUsage, ""},
	{"long keys near names", "chat", `{"choices":[{"delta":{"contents":"no","reasoning_contentX":"no","content":"x"}}],"usage":{"prompt_tokens_x":9,"completion_tokens_details_x":1,"total_tokens":2}}`, true,
		[]string{"text:x"}, usage(-1, -1, 2, -1, -1, -1, -1), ""},
	{"reasoning", "chat", `{"choices":[{"delta":{"reasoning_content":"r","content":"c"}}]}`, true,
		[]string{"reasoning:r|c"}, record.NoUsage, ""},
	{"tool calls", "chat", `{"object":"chat.completion","choices":[{"message":{"content":null,"tool_calls":[{"function":{"name":"f","arguments":"{}"}}]}}]}`, true,
		[]string{"tool:f{}"}, record.NoUsage, ""},
	{"content parts", "chat", `{"choices":[{"message":{"content":[{"type":"text","text":"a"},{"type":"image","text":"no"},{"type":"text","text":"b"}]}}]}`, true,
		[]string{"text:ab"}, record.NoUsage, ""},
	{"escaped content", "chat", `{"choices":[{"delta":{"content":"a\"\\\u00e9"}}]}`, true,
		[]string{"text:a\"\\é"}, record.NoUsage, ""},
	{"error", "chat", `{"error":{"message":"boom","code":503}}`, true, nil, record.NoUsage, "boom"},
	{"error null", "chat", `{"error":null,"choices":[{"delta":{"content":"x"}}]}`, true,
		[]string{"text:x"}, record.NoUsage, ""},
	{"whitespace everywhere", "chat", " \n{ \"choices\" :\t[ { \"delta\" : { \"content\" : \"x\" } } ] , \"usage\" : { \"total_tokens\" : 1 } }\r\n", true,
		[]string{"text:x"}, usage(-1, -1, 1, -1, -1, -1, -1), ""},
	{"empty key", "chat", `{"":1,"choices":[{"delta":{"":2,"content":"x"}}]}`, true, []string{"text:x"}, record.NoUsage, ""},
	{"completion", "completions", `{"object":"text_completion","choices":[{"text":"hi"}],"usage":{"completion_tokens":1}}`, true,
		[]string{"text:hi"}, usage(-1, 1, -1, -1, -1, -1, 1), ""},
	{"completion duplicate text", "completions", `{"choices":[{"text":"a","text":"b"}]}`, true,
		[]string{"text:a"}, record.NoUsage, ""},
	{"completion other object", "completions", `{"object":"chat.completion","choices":[{"text":"a"}]}`, true,
		nil, record.NoUsage, ""},

	// Not plain JSON: the lenient scan decides.
	{"escaped key in message", "chat", `{"object":"chat.completion","choices":[{"message":{"con\u0074ent":"hi"}}]}`, false,
		[]string{"text:hi"}, record.NoUsage, ""},
	{"escaped top key", "chat", `{"obj\u0065ct":"chat.completion.chunk","choices":[{"delta":{"content":"x"}}]}`, false,
		[]string{"text:x"}, record.NoUsage, ""},
	{"escaped usage key", "chat", `{"usage":{"total_tok\u0065ns":4}}`, false,
		[]string{"usage"}, usage(-1, -1, 4, -1, -1, -1, -1), ""},
	{"bad escape in key", "chat", `{"choices":[{"delta":{"content\q":"no","content":"x"}}]}`, false,
		[]string{"text:x"}, record.NoUsage, ""},
	{"truncated", "chat", `{"object":"chat.completion.chunk","choices":[{"delta":{"content":"x"`, false,
		nil, record.NoUsage, ""},
	{"truncated string", "chat", `{"choices":[{"delta":{"content":"x`, false, nil, record.NoUsage, ""},
	{"truncated after choices", "chat", `{"choices":[{"delta":{"content":"x"}}],"usage":{"total_tokens":1`, false,
		nil, record.NoUsage, ""},
	{"unbalanced nested object", "chat", `{"choices":[{"delta":{"content":"x"]}],"object":"chat.completion.chunk"}`, false,
		[]string{"text:x"}, record.NoUsage, ""},
	{"trailing comma in delta", "chat", `{"choices":[{"delta":{"content":"x",}}]}`, false,
		[]string{"text:x"}, record.NoUsage, ""},
	{"missing comma in delta", "chat", `{"choices":[{"delta":{"content":"a" "reasoning":"b"}}]}`, false,
		[]string{"reasoning:b|a"}, record.NoUsage, ""},
	{"trailing comma in choices", "chat", `{"choices":[{"delta":{"content":"x"}},]}`, false,
		[]string{"text:x"}, record.NoUsage, ""},
	{"garbage literal", "chat", `{"created":12a"b,"choices":[{"delta":{"content":"x"}}]}`, false,
		[]string{"text:x"}, record.NoUsage, ""},
	{"literal with bracket", "chat", `{"choices":[{"index":0[,"delta":{"content":"x"}}]}`, false,
		nil, record.NoUsage, ""},
	{"trailing garbage", "chat", `{"choices":[{"delta":{"content":"x"}}]} x`, false, nil, record.NoUsage, ""},
	{"not an object", "chat", `["choices"]`, false, nil, record.NoUsage, ""},
	{"completion escaped text key", "completions", `{"choices":[{"t\u0065xt":"a"}]}`, false,
		[]string{"text:a"}, record.NoUsage, ""},
}

func TestPlainScanMatchesLenient(t *testing.T) {
	for _, c := range plainCases {
		t.Run(c.name, func(t *testing.T) {
			fast, _, plain := parseBoth(t, c.endpoint, []byte(c.data))
			checkSameParse(t, c.endpoint, []byte(c.data))
			if plain != c.plain {
				t.Errorf("single pass took it: %v; want %v", plain, c.plain)
			}
			checkEvents(t, fast, c.events...)
			if fast.Usage != c.usage {
				t.Errorf("usage = %+v; want %+v", fast.Usage, c.usage)
			}
			switch {
			case c.err == "" && fast.Error != nil:
				t.Errorf("error %+v", *fast.Error)
			case c.err != "" && (fast.Error == nil || fast.Error.Message != c.err):
				t.Errorf("error %+v; want %q", fast.Error, c.err)
			}
		})
	}
}

// checkTGIScan: when the single pass takes a TGI stream event, it finds
// the members the lenient scan finds; it reports whether it took it.
func checkTGIScan(t testing.TB, data []byte) bool {
	t.Helper()
	var top, ltop [3][]byte
	var tok, ltok [1][]byte
	if !scanMembers(data, tgiTopSet, top[:], 0, tgiTokenSet, tok[:]) {
		return false
	}
	ok := fields(data, tgiTopNames, ltop[:])
	fields(ltop[0], tgiTokenNames, ltok[:])
	if !ok || !sameMembers(top[:], ltop[:]) || !sameMembers(tok[:], ltok[:]) {
		t.Fatalf("TGI %q: single pass %q %q; lenient (%v) %q %q", data, top, tok, ok, ltop, ltok)
	}
	return true
}

// sameMembers compares found members, absent (nil) ones included.
func sameMembers(a, b [][]byte) bool {
	for i := range a {
		if (a[i] == nil) != (b[i] == nil) || !bytes.Equal(a[i], b[i]) {
			return false
		}
	}
	return true
}

func TestPlainScanTGI(t *testing.T) {
	for data, plain := range map[string]bool{
		`{"index":3,"token":{"id":1917,"text":" world","logprob":-0.25,"special":false},"generated_text":null,"details":null}`: true,
		`{"token":{"text":"a","text":"b"},"token":{"text":"c"}}`:                                                               true,
		`{"token":"x","generated_text":"all","error":null}`:                                                                    true,
		`{"error":"overloaded","error_type":"overloaded"}`:                                                                     true,
		`{"token":{"te\u0078t":"a"}}`:                                                                                          false,
		`{"token":{"text":"a"`:                                                                                                 false,
		`{"token":{"text":"a",}}`:                                                                                              false,
	} {
		if got := checkTGIScan(t, []byte(data)); got != plain {
			t.Errorf("%s: single pass took it: %v; want %v", data, got, plain)
		}
	}
	// The parser reads the same through either scan.
	p := newEndpoint(t, "huggingface_generate", nil).NewParser()
	for _, data := range []string{`{"token":{"text":"a","text":"b"}}`, `{"token":{"te\u0078t":"a"}}`, `{"token":{"text":"a",}}`} {
		rec := record.New()
		p.Message(&sse.Message{Data: []byte(data), HasData: true, PerfNs: 1}, rec)
		checkEvents(t, rec, "text:a")
	}
}

// FuzzPlainScanMatchesLenient: on any input the chat and completions
// parsers record exactly what the lenient scan alone records, and the TGI
// single pass finds what the lenient scan finds.
func FuzzPlainScanMatchesLenient(f *testing.F) {
	for _, c := range plainCases {
		f.Add(c.data)
	}
	f.Add(mockChatBody)
	f.Add(`{"index":3,"token":{"id":1917,"text":" world","logprob":-0.25,"special":false},"generated_text":null,"details":null}`)
	if b, err := os.ReadFile(filepath.Join("testdata", "fixtures", "json", "llamacpp-chat.json")); err == nil {
		f.Add(string(b))
	}
	f.Fuzz(func(t *testing.T, data string) {
		checkSameParse(t, "chat", []byte(data))
		checkSameParse(t, "completions", []byte(data))
		checkTGIScan(t, []byte(data))
	})
}
