package export

import (
	"encoding/json"

	"github.com/loadstar/loadstar/engine/config"
	"github.com/loadstar/loadstar/engine/ordered"
	"github.com/loadstar/loadstar/engine/results"
)

// inputConfig is cfg.Describe(), which hides secrets by package redact's
// rules (secret-named keys, secret headers in any of the forms an endpoint
// accepts, secret url_params, URL passwords): the input_config block.
func inputConfig(cfg *config.Benchmark) *ordered.Map {
	return cfg.Describe()
}

// InputConfigJSON is the input_config the artifacts write for cfg (secrets
// redacted), as JSON: a shard keeps it for the merge of its benchmark.
func InputConfigJSON(cfg *config.Benchmark) ([]byte, error) {
	return inputConfig(cfg).MarshalJSON()
}

// inputConfigOf is the summary's input_config: the one it carries (a
// merged run's), else its plan's.
func inputConfigOf(sum *results.Summary) any {
	if sum.InputConfig != nil {
		return json.RawMessage(sum.InputConfig)
	}
	return inputConfig(sum.Config)
}
