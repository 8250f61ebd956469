package tokenizer

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/dlclark/regexp2"
	"golang.org/x/text/unicode/norm"
)

// FromFile loads a Hugging Face tokenizer.json (a BPE model: byte-level
// like GPT-2, Llama 3 and Qwen, or SentencePiece-style with ▁ and byte
// fallback like Llama 2 and Mistral). Errors name the file.
func FromFile(path string) (Tokenizer, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("tokenizer file: %w", err)
	}
	t, err := fromJSON(path, data)
	if err != nil {
		return nil, fmt.Errorf("tokenizer file %s: %w", path, err)
	}
	return t, nil
}

type hfFile struct {
	AddedTokens []struct {
		ID      int    `json:"id"`
		Content string `json:"content"`
		Lstrip  bool   `json:"lstrip"`
		Rstrip  bool   `json:"rstrip"`
	} `json:"added_tokens"`
	Normalizer   json.RawMessage `json:"normalizer"`
	PreTokenizer json.RawMessage `json:"pre_tokenizer"`
	Model        struct {
		Type                    string          `json:"type"`
		Vocab                   map[string]int  `json:"vocab"`
		Merges                  json.RawMessage `json:"merges"`
		UnkToken                *string         `json:"unk_token"`
		FuseUnk                 bool            `json:"fuse_unk"`
		ByteFallback            bool            `json:"byte_fallback"`
		IgnoreMerges            bool            `json:"ignore_merges"`
		ContinuingSubwordPrefix *string         `json:"continuing_subword_prefix"`
		EndOfWordSuffix         *string         `json:"end_of_word_suffix"`
	} `json:"model"`
	Decoder json.RawMessage `json:"decoder"`
}

// hfComponent holds the fields of any normalizer, pre-tokenizer or decoder.
type hfComponent struct {
	Type          string            `json:"type"`
	Normalizers   []json.RawMessage `json:"normalizers"`
	Pretokenizers []json.RawMessage `json:"pretokenizers"`
	Decoders      []json.RawMessage `json:"decoders"`
	Pattern       *struct {
		Regex  *string `json:"Regex"`
		String *string `json:"String"`
	} `json:"pattern"`
	Content          string `json:"content"`
	Prepend          string `json:"prepend"`
	Behavior         string `json:"behavior"`
	Invert           bool   `json:"invert"`
	AddPrefixSpace   *bool  `json:"add_prefix_space"`
	UseRegex         *bool  `json:"use_regex"`
	Replacement      string `json:"replacement"`
	PrependScheme    string `json:"prepend_scheme"`
	Split            *bool  `json:"split"`
	IndividualDigits bool   `json:"individual_digits"`
	StripLeft        bool   `json:"strip_left"`
	StripRight       bool   `json:"strip_right"`
	Start            int    `json:"start"`
	Stop             int    `json:"stop"`
}

func isNull(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) == 0 || string(raw) == "null"
}

// fromJSON builds a tokenizer from the contents of a tokenizer.json; name
// is what Name reports.
func fromJSON(name string, data []byte) (Tokenizer, error) {
	var f hfFile
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("not a tokenizer.json: %w", err)
	}
	if f.Model.Type != "" && f.Model.Type != "BPE" {
		return nil, fmt.Errorf("model.type %q is not supported (only BPE tokenizers: GPT-2, Llama, Qwen, Mistral style)", f.Model.Type)
	}
	if len(f.Model.Vocab) == 0 {
		return nil, fmt.Errorf("model.vocab is missing or empty")
	}
	if p := f.Model.ContinuingSubwordPrefix; p != nil && *p != "" {
		return nil, fmt.Errorf("model.continuing_subword_prefix %q is not supported", *p)
	}
	if p := f.Model.EndOfWordSuffix; p != nil && *p != "" {
		return nil, fmt.Errorf("model.end_of_word_suffix %q is not supported", *p)
	}
	pre, byteLevel, err := buildPreTokenizer(f.PreTokenizer)
	if err != nil {
		return nil, fmt.Errorf("pre_tokenizer: %w", err)
	}
	var dec hfComponent
	if !isNull(f.Decoder) {
		if err := json.Unmarshal(f.Decoder, &dec); err != nil {
			return nil, fmt.Errorf("decoder: %w", err)
		}
		if dec.Type == "ByteLevel" {
			byteLevel = true
		}
	}
	normalize, err := buildNormalizer(f.Normalizer)
	if err != nil {
		return nil, fmt.Errorf("normalizer: %w", err)
	}
	m, tokens, err := buildModel(&f, byteLevel)
	if err != nil {
		return nil, err
	}
	decode, err := buildDecoder(f.Decoder, byteLevel)
	if err != nil {
		return nil, fmt.Errorf("decoder: %w", err)
	}
	e := &encoder{name: name, m: m, normalize: normalize, pre: pre, decode: decode}
	var added []addedToken
	for _, t := range f.AddedTokens {
		added = append(added, addedToken{content: t.Content, id: t.ID, lstrip: t.Lstrip, rstrip: t.Rstrip})
		for len(tokens) <= t.ID {
			tokens = append(tokens, "")
		}
		tokens[t.ID] = t.Content
	}
	m.tokens = newTokenTable(tokens)
	e.added = newAddedTokens(added)
	if !byteLevel && spmSplittable(tokens) {
		e.spmSplit = spmSpace
	}
	return e, nil
}

const spmSpace = "▁"

// spmSplittable reports whether no token contains ▁ right after another
// character, so merges never cross the start of a ▁-word.
func spmSplittable(tokens []string) bool {
	has := false
	for _, t := range tokens {
		for i := 1; i < len(t); i++ {
			if strings.HasPrefix(t[i:], spmSpace) {
				has = true
				if !strings.HasSuffix(t[:i], spmSpace) {
					return false
				}
			}
		}
		if strings.HasPrefix(t, spmSpace) {
			has = true
		}
	}
	return has
}

// byteDecoder maps GPT-2's printable byte alphabet back to bytes.
var byteDecoder = func() map[rune]byte {
	m := make(map[rune]byte, 256)
	n := 0
	for b := 0; b < 256; b++ {
		if (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF) {
			m[rune(b)] = byte(b)
		} else {
			m[rune(256+n)] = byte(b)
			n++
		}
	}
	return m
}()

// fromByteAlphabet converts a byte-level vocabulary string to raw bytes.
func fromByteAlphabet(s string) (string, bool) {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		c, ok := byteDecoder[r]
		if !ok {
			return s, false
		}
		b.WriteByte(c)
	}
	return b.String(), true
}

// buildModel returns the model and its tokens by id (the caller adds the
// added tokens, then sets m.tokens).
func buildModel(f *hfFile, byteLevel bool) (*model, []string, error) {
	maxID := 0
	for _, id := range f.Model.Vocab {
		maxID = max(maxID, id)
	}
	tokens := make([]string, maxID+1)
	m := &model{
		rule:        rankByMergeList,
		byteLevel:   byteLevel,
		ignoreMerge: f.Model.IgnoreMerges,
		byteFallbk:  f.Model.ByteFallback,
		fuseUnk:     f.Model.FuseUnk,
		unkID:       -1,
	}
	m.ids.init(len(f.Model.Vocab))
	for s, id := range f.Model.Vocab {
		if id < 0 {
			return nil, nil, fmt.Errorf("model.vocab: token %q has negative id %d", s, id)
		}
		key := s
		if byteLevel {
			if raw, ok := fromByteAlphabet(s); ok {
				key = raw
			}
		}
		tokens[id] = key
		m.ids.set(key, int32(id))
	}
	if byteLevel {
		for b := 0; b < 256; b++ {
			id, ok := m.ids.get(string([]byte{byte(b)}))
			if !ok {
				return nil, nil, fmt.Errorf("model.vocab: byte-level vocabulary lacks the token for byte 0x%02X", b)
			}
			m.byteID[b] = id
		}
	}
	for b := 0; b < 256; b++ {
		m.fallbackID[b] = -1
		if id, ok := f.Model.Vocab[fmt.Sprintf("<0x%02X>", b)]; ok {
			m.fallbackID[b] = int32(id)
		}
	}
	if u := f.Model.UnkToken; u != nil {
		if id, ok := f.Model.Vocab[*u]; ok {
			m.unkID = int32(id)
		}
	}
	pairs, err := parseMerges(f.Model.Merges)
	if err != nil {
		return nil, nil, err
	}
	m.merges = make(map[uint64]uint64, len(pairs))
	for rank, p := range pairs {
		a, okA := f.Model.Vocab[p[0]]
		b, okB := f.Model.Vocab[p[1]]
		c, okC := f.Model.Vocab[p[0]+p[1]]
		if !okA || !okB || !okC {
			return nil, nil, fmt.Errorf("model.merges[%d] %q %q: merge part or result not in the vocabulary", rank, p[0], p[1])
		}
		key := uint64(uint32(a))<<32 | uint64(uint32(b))
		if _, dup := m.merges[key]; !dup {
			m.merges[key] = uint64(rank)<<32 | uint64(uint32(c))
		}
	}
	return m, tokens, nil
}

// parseMerges accepts both serializations: ["a b", ...] (tokenizers < 0.20)
// and [["a", "b"], ...].
func parseMerges(raw json.RawMessage) ([][2]string, error) {
	if isNull(raw) {
		return nil, nil
	}
	var pairs [][2]string
	if err := json.Unmarshal(raw, &pairs); err == nil {
		return pairs, nil
	}
	var lines []string
	if err := json.Unmarshal(raw, &lines); err != nil {
		return nil, fmt.Errorf("model.merges: want a list of \"a b\" strings or [a, b] pairs: %w", err)
	}
	pairs = make([][2]string, len(lines))
	for i, l := range lines {
		a, b, ok := strings.Cut(l, " ")
		if !ok {
			return nil, fmt.Errorf("model.merges[%d] %q: want two tokens separated by a space", i, l)
		}
		pairs[i] = [2]string{a, b}
	}
	return pairs, nil
}

func buildNormalizer(raw json.RawMessage) (func(string) string, error) {
	if isNull(raw) {
		return nil, nil
	}
	var c hfComponent
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, err
	}
	switch c.Type {
	case "Sequence":
		var fs []func(string) string
		for i, r := range c.Normalizers {
			f, err := buildNormalizer(r)
			if err != nil {
				return nil, fmt.Errorf("normalizers[%d]: %w", i, err)
			}
			if f != nil {
				fs = append(fs, f)
			}
		}
		return func(s string) string {
			for _, f := range fs {
				s = f(s)
			}
			return s
		}, nil
	case "NFC":
		return norm.NFC.String, nil
	case "NFD":
		return norm.NFD.String, nil
	case "NFKC":
		return norm.NFKC.String, nil
	case "NFKD":
		return norm.NFKD.String, nil
	case "Lowercase":
		return strings.ToLower, nil
	case "Prepend":
		p := c.Prepend
		return func(s string) string {
			if s == "" {
				return s
			}
			return p + s
		}, nil
	case "Strip":
		l, r := c.StripLeft, c.StripRight
		return func(s string) string {
			if l {
				s = strings.TrimLeft(s, " \t\n\r\v\f")
			}
			if r {
				s = strings.TrimRight(s, " \t\n\r\v\f")
			}
			return s
		}, nil
	case "Replace":
		return replacer(c)
	}
	return nil, fmt.Errorf("normalizer type %q is not supported", c.Type)
}

func replacer(c hfComponent) (func(string) string, error) {
	if c.Pattern == nil {
		return nil, fmt.Errorf(`type "Replace": pattern is missing`)
	}
	content := c.Content
	if c.Pattern.String != nil {
		old := *c.Pattern.String
		return func(s string) string { return strings.ReplaceAll(s, old, content) }, nil
	}
	if c.Pattern.Regex != nil {
		re, err := regexp2.Compile(*c.Pattern.Regex, regexp2.None)
		if err != nil {
			return nil, fmt.Errorf(`type "Replace": pattern %q: %w`, *c.Pattern.Regex, err)
		}
		return func(s string) string {
			out, err := re.Replace(s, content, -1, -1)
			if err != nil {
				return s
			}
			return out
		}, nil
	}
	return nil, fmt.Errorf(`type "Replace": pattern needs String or Regex`)
}

// buildPreTokenizer returns the pre-tokenizer chain and whether it is
// byte-level.
func buildPreTokenizer(raw json.RawMessage) (stage, bool, error) {
	if isNull(raw) {
		return compose(nil), false, nil
	}
	var c hfComponent
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, false, err
	}
	boolOr := func(p *bool, def bool) bool {
		if p == nil {
			return def
		}
		return *p
	}
	switch c.Type {
	case "Sequence":
		var stages []stage
		byteLevel := false
		for i, r := range c.Pretokenizers {
			s, bl, err := buildPreTokenizer(r)
			if err != nil {
				return nil, false, fmt.Errorf("pretokenizers[%d]: %w", i, err)
			}
			stages = append(stages, s)
			byteLevel = byteLevel || bl
		}
		return compose(stages), byteLevel, nil
	case "Split":
		if c.Pattern == nil {
			return nil, false, fmt.Errorf(`type "Split": pattern is missing`)
		}
		behavior, err := parseBehavior(c.Behavior)
		if err != nil {
			return nil, false, fmt.Errorf(`type "Split": %w`, err)
		}
		var m matcher
		switch {
		case c.Pattern.Regex != nil:
			if m, err = regexMatcher(*c.Pattern.Regex); err != nil {
				return nil, false, fmt.Errorf(`type "Split": %w`, err)
			}
		case c.Pattern.String != nil:
			m = literalMatcher(*c.Pattern.String)
		default:
			return nil, false, fmt.Errorf(`type "Split": pattern needs String or Regex`)
		}
		return splitStage(m, behavior, c.Invert), false, nil
	case "ByteLevel":
		s, err := byteLevelStage(boolOr(c.AddPrefixSpace, true), boolOr(c.UseRegex, true))
		return s, true, err
	case "Metaspace":
		rep := c.Replacement
		if rep == "" {
			rep = spmSpace
		}
		scheme := c.PrependScheme
		if scheme == "" {
			scheme = "always"
			if !boolOr(c.AddPrefixSpace, true) {
				scheme = "never"
			}
		}
		return metaspaceStage(rep, scheme, boolOr(c.Split, true)), false, nil
	case "Digits":
		return digitsStage(c.IndividualDigits), false, nil
	case "WhitespaceSplit":
		m, _ := regexMatcher(`\s+`)
		return splitStage(m, splitRemoved, false), false, nil
	case "Whitespace":
		m, _ := regexMatcher(`\w+|[^\w\s]+`)
		return splitStage(m, splitRemoved, true), false, nil
	}
	return nil, false, fmt.Errorf("pre-tokenizer type %q is not supported", c.Type)
}

// tokenDecoder transforms the token strings on their way to text.
type tokenDecoder func([]string) []string

func buildDecoder(raw json.RawMessage, byteLevel bool) (func([]string) string, error) {
	chain, err := buildDecoderChain(raw)
	if err != nil {
		return nil, err
	}
	return func(toks []string) string {
		if chain != nil {
			toks = chain(toks)
		}
		return strings.ToValidUTF8(strings.Join(toks, ""), "\uFFFD")
	}, nil
}

func buildDecoderChain(raw json.RawMessage) (tokenDecoder, error) {
	if isNull(raw) {
		return nil, nil
	}
	var c hfComponent
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, err
	}
	switch c.Type {
	case "Sequence":
		var ds []tokenDecoder
		for i, r := range c.Decoders {
			d, err := buildDecoderChain(r)
			if err != nil {
				return nil, fmt.Errorf("decoders[%d]: %w", i, err)
			}
			if d != nil {
				ds = append(ds, d)
			}
		}
		return func(t []string) []string {
			for _, d := range ds {
				t = d(t)
			}
			return t
		}, nil
	case "ByteLevel", "Fuse":
		// Byte-level vocabularies are stored as raw bytes already.
		return func(t []string) []string { return []string{strings.Join(t, "")} }, nil
	case "Replace":
		f, err := replacer(c)
		if err != nil {
			return nil, err
		}
		return func(t []string) []string {
			out := make([]string, len(t))
			for i, s := range t {
				out[i] = f(s)
			}
			return out
		}, nil
	case "ByteFallback":
		return byteFallbackDecoder, nil
	case "Strip":
		content, start, stop := c.Content, c.Start, c.Stop
		return func(t []string) []string {
			out := make([]string, len(t))
			for i, s := range t {
				for k := 0; k < start && strings.HasPrefix(s, content) && content != ""; k++ {
					s = s[len(content):]
				}
				for k := 0; k < stop && strings.HasSuffix(s, content) && content != ""; k++ {
					s = s[:len(s)-len(content)]
				}
				out[i] = s
			}
			return out
		}, nil
	case "Metaspace":
		rep := c.Replacement
		if rep == "" {
			rep = spmSpace
		}
		stripFirst := c.PrependScheme != "never"
		if c.PrependScheme == "" && c.AddPrefixSpace != nil && !*c.AddPrefixSpace {
			stripFirst = false
		}
		return func(t []string) []string {
			out := make([]string, len(t))
			for i, s := range t {
				s = strings.ReplaceAll(s, rep, " ")
				if i == 0 && stripFirst {
					s = strings.TrimPrefix(s, " ")
				}
				out[i] = s
			}
			return out
		}, nil
	}
	return nil, fmt.Errorf("decoder type %q is not supported", c.Type)
}

// byteFallbackDecoder turns runs of <0xXX> tokens into the text they spell.
func byteFallbackDecoder(t []string) []string {
	out := make([]string, 0, len(t))
	var pending []byte
	flush := func() {
		if len(pending) > 0 {
			s := string(pending)
			if !utf8.ValidString(s) {
				s = strings.ToValidUTF8(s, "\uFFFD")
			}
			out = append(out, s)
			pending = pending[:0]
		}
	}
	for _, s := range t {
		if len(s) == 6 && strings.HasPrefix(s, "<0x") && s[5] == '>' {
			if b, err := strconv.ParseUint(s[3:5], 16, 8); err == nil {
				pending = append(pending, byte(b))
				continue
			}
		}
		flush()
		out = append(out, s)
	}
	flush()
	return out
}
