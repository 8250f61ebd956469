package aiperfcli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/loadstar/loadstar/engine/config"
	"github.com/loadstar/loadstar/engine/tokenizer"
)

// defaultRevision is the Hugging Face revision looked up without
// --tokenizer-revision.
const defaultRevision = "main"

// resolveTokenizer turns AIPerf's --tokenizer (default: the model name)
// into a tokenizer that works offline: "builtin" or a built-in encoding
// name, a tokenizer.json file or a directory holding one, or a model id
// whose tokenizer.json is in the local Hugging Face cache. An explicit
// --tokenizer that is none of these is an error; a model name used by
// default falls back to the built-in encoding with a note (placeholder
// names such as mock-model silently, as AIPerf does).
func resolveTokenizer(f *Flags, getenv func(string) string) (config.Tokenizer, string, error) {
	name, explicit := strings.TrimSpace(f.Tokenizer), true
	if name == "" {
		explicit = false
		if len(f.Model) > 0 {
			name = strings.TrimSpace(f.Model[0])
		}
	}
	if f.TokenizerRevision != "" && !explicit && name == "" {
		return config.Tokenizer{}, "", usage("tokenizer-revision", "needs --tokenizer or a model id")
	}
	builtin := config.Tokenizer{Kind: "tiktoken", Name: tokenizer.DefaultBuiltin}
	switch strings.ToLower(name) {
	case "", "builtin", "default":
		return builtin, "", nil
	}
	for _, b := range tokenizer.BuiltinNames() {
		if name == b {
			return config.Tokenizer{Kind: "tiktoken", Name: b}, "", nil
		}
	}
	if p, ok := localTokenizerFile(name); ok {
		return config.Tokenizer{Kind: "file", Path: p}, "", nil
	}
	rev := f.TokenizerRevision
	if rev == "" {
		rev = defaultRevision
	}
	if p, ok := hfCacheTokenizer(name, rev, getenv); ok {
		return config.Tokenizer{Kind: "file", Path: p}, "", nil
	}
	if explicit {
		return config.Tokenizer{}, "", invalid("tokenizer", "%q is not a built-in encoding (builtin, %s), a tokenizer.json file or a directory holding one, or a model in the local Hugging Face cache (revision %s); loadstar works offline and never downloads tokenizers",
			name, strings.Join(tokenizer.BuiltinNames(), ", "), rev)
	}
	if isPlaceholderModel(name) {
		return builtin, "", nil
	}
	if enc := openAIEncoding(name); enc != "" {
		return config.Tokenizer{Kind: "tiktoken", Name: enc}, "", nil
	}
	return builtin, fmt.Sprintf("tokenizer: %s's tokenizer is not available offline (not a local path nor in the Hugging Face cache); counting tokens with the built-in %s encoding. Pass --tokenizer path/to/tokenizer.json for exact counts", name, tokenizer.DefaultBuiltin), nil
}

// localTokenizerFile finds a tokenizer.json at p (a file, or a directory
// holding one), made absolute.
func localTokenizerFile(p string) (string, bool) {
	st, err := os.Stat(p)
	if err != nil {
		return "", false
	}
	if st.IsDir() {
		p = filepath.Join(p, "tokenizer.json")
		if st, err = os.Stat(p); err != nil || st.IsDir() {
			return "", false
		}
	}
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", false
	}
	return abs, true
}

// hfCacheTokenizer finds model's tokenizer.json in the Hugging Face hub
// cache: <cache>/models--<org>--<name>/snapshots/<commit>/tokenizer.json,
// the commit read from refs/<revision> (or revision itself when it is one).
func hfCacheTokenizer(model, revision string, getenv func(string) string) (string, bool) {
	if strings.Count(model, "/") != 1 || strings.Contains(model, "..") {
		return "", false
	}
	var roots []string
	if d := getenv("HF_HUB_CACHE"); d != "" {
		roots = append(roots, d)
	}
	if d := getenv("HF_HOME"); d != "" {
		roots = append(roots, filepath.Join(d, "hub"))
	}
	if d := getenv("XDG_CACHE_HOME"); d != "" {
		roots = append(roots, filepath.Join(d, "huggingface", "hub"))
	}
	if d := getenv("HOME"); d != "" {
		roots = append(roots, filepath.Join(d, ".cache", "huggingface", "hub"))
	}
	repo := "models--" + strings.ReplaceAll(model, "/", "--")
	for _, root := range roots {
		dir := filepath.Join(root, repo)
		commit := revision
		if b, err := os.ReadFile(filepath.Join(dir, "refs", revision)); err == nil {
			commit = strings.TrimSpace(string(b))
		}
		p := filepath.Join(dir, "snapshots", commit, "tokenizer.json")
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p, true
		}
	}
	return "", false
}

// isPlaceholderModel reports model names that stand for no real model
// (mock and test servers), which use the built-in encoding without a note.
func isPlaceholderModel(name string) bool {
	n := strings.ToLower(name)
	for _, p := range []string{"mock", "test", "dummy", "fake", "placeholder", "example"} {
		if strings.HasPrefix(n, p) {
			return true
		}
	}
	return false
}

// openAIEncoding is the built-in encoding of an OpenAI model name, "" for
// other names.
func openAIEncoding(name string) string {
	n := strings.ToLower(name)
	for _, p := range []string{"gpt-4o", "gpt-4.1", "gpt-4.5", "gpt-5", "gpt-oss", "o1", "o3", "o4", "chatgpt-4o"} {
		if strings.HasPrefix(n, p) {
			return "o200k_base"
		}
	}
	for _, p := range []string{"gpt-4", "gpt-3.5", "text-embedding-3", "text-embedding-ada"} {
		if strings.HasPrefix(n, p) {
			return "cl100k_base"
		}
	}
	return ""
}
