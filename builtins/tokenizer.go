package builtins

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"

	"github.com/loadstar/loadstar/engine/config"
	"github.com/loadstar/loadstar/engine/tokenizer"
)

// Tokenizer is a script's choice of tokenizer (run(tokenizer = ...)).
type Tokenizer struct{ Cfg config.Tokenizer }

func (t Tokenizer) String() string        { return t.Cfg.String() }
func (t Tokenizer) Type() string          { return "tokenizer" }
func (t Tokenizer) Freeze()               {}
func (t Tokenizer) Truth() starlark.Bool  { return true }
func (t Tokenizer) Hash() (uint32, error) { return starlark.String(t.Cfg.String()).Hash() }

// callerDir is the directory of the .star file calling the current builtin,
// so paths written in a scenario or library are relative to that file.
func callerDir(thread *starlark.Thread) string {
	if thread.CallStackDepth() < 2 {
		return "."
	}
	file := thread.CallFrame(1).Pos.Filename()
	if strings.HasPrefix(file, "@") || file == "" {
		return "."
	}
	return filepath.Dir(file)
}

// resolvePath makes a path written in a script absolute, relative to the
// calling file's directory.
func resolvePath(thread *starlark.Thread, p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	abs, err := filepath.Abs(filepath.Join(callerDir(thread), p))
	if err != nil {
		return p
	}
	return abs
}

// tokenizerModule is the `tokenizer` namespace:
//
//	tokenizer.tiktoken("o200k_base")            # built-in: o200k_base (default), cl100k_base
//	tokenizer.file("models/qwen3/tokenizer.json") # a Hugging Face tokenizer.json
func tokenizerModule() *starlarkstruct.Module {
	tiktoken := starlark.NewBuiltin("tokenizer.tiktoken", func(_ *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		name := tokenizer.DefaultBuiltin
		if err := unpack(fn.Name(), args, kwargs, "encoding?", &name); err != nil {
			return nil, err
		}
		known := tokenizer.BuiltinNames()
		for _, k := range known {
			if k == name {
				return Tokenizer{config.Tokenizer{Kind: "tiktoken", Name: name}}, nil
			}
		}
		return nil, fmt.Errorf("%s: unknown encoding %q; built-in encodings: %s", fn.Name(), name, strings.Join(known, ", "))
	})
	file := starlark.NewBuiltin("tokenizer.file", func(thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		var path string
		if err := unpack(fn.Name(), args, kwargs, "path", &path); err != nil {
			return nil, err
		}
		abs := resolvePath(thread, path)
		st, err := os.Stat(abs)
		if err != nil {
			return nil, fmt.Errorf("%s: %q: %v", fn.Name(), path, err)
		}
		if st.IsDir() {
			abs = filepath.Join(abs, "tokenizer.json")
			if _, err := os.Stat(abs); err != nil {
				return nil, fmt.Errorf("%s: %q is a directory without tokenizer.json", fn.Name(), path)
			}
		}
		return Tokenizer{config.Tokenizer{Kind: "file", Path: abs}}, nil
	})
	return &starlarkstruct.Module{Name: "tokenizer", Members: starlark.StringDict{"tiktoken": tiktoken, "file": file}}
}
