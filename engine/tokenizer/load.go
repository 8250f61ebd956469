package tokenizer

import (
	"fmt"
	"path/filepath"

	"github.com/loadstar/loadstar/engine/config"
)

// Load builds the tokenizer a benchmark selects: Kind "tiktoken" uses the
// built-in encoding Name, "file" loads the Hugging Face tokenizer.json at
// Path (relative paths are taken from baseDir, the scenario's directory),
// and "" is the default built-in o200k_base.
//
//	tok, err := tokenizer.Load(config.Tokenizer{Kind: "file", Path: "models/tokenizer.json"}, scenarioDir)
func Load(cfg config.Tokenizer, baseDir string) (Tokenizer, error) {
	switch cfg.Kind {
	case "":
		return Builtin(DefaultBuiltin)
	case "tiktoken":
		name := cfg.Name
		if name == "" {
			name = DefaultBuiltin
		}
		return Builtin(name)
	case "file":
		if cfg.Path == "" {
			return nil, fmt.Errorf("tokenizer.file: path is empty")
		}
		p := cfg.Path
		if !filepath.IsAbs(p) && baseDir != "" {
			p = filepath.Join(baseDir, p)
		}
		return FromFile(p)
	}
	return nil, fmt.Errorf("tokenizer: unknown kind %q (want \"tiktoken\" or \"file\")", cfg.Kind)
}
