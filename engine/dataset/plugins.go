package dataset

import (
	"fmt"

	"github.com/loadstar/loadstar/engine/dist"
	"github.com/loadstar/loadstar/engine/plugin"
)

// Classes returns the plugin classes of this package, keyed by the Go name
// used in plugins.yaml (class go:engine/dataset.<Key>).
func Classes() map[string]*plugin.Class {
	classes := map[string]*plugin.Class{
		"Synthetic": {
			Params: []plugin.Param{
				{Name: "isl", Type: plugin.TDist, Default: dist.Fixed{V: 550},
					Doc: "Input tokens per prompt; every prompt re-encodes to exactly its drawn length with the benchmark's tokenizer, e.g. dist.normal(550, 50)."},
				{Name: "osl", Type: plugin.TDist,
					Doc: "Output tokens requested per turn (sent as max tokens); unset = not sent."},
				{Name: "sequence_distribution", Type: plugin.TString,
					Doc: "Joint (ISL, OSL) mix in AIPerf syntax \"ISL,OSL:percent;...\" with optional \"mean|stddev\" lengths, e.g. \"128,64:30;2048|100,256:70\"; overrides isl and osl."},
				{Name: "entries", Type: plugin.TInt, Default: int64(100),
					Doc: "Number of distinct conversations to compose (AIPerf --num-dataset-entries)."},
				{Name: "turns", Type: plugin.TDist, Default: dist.Fixed{V: 1},
					Doc: "Turns per conversation (at least 1), e.g. dist.normal(4, 1)."},
				{Name: "turn_delay", Type: plugin.TDist,
					Doc: "Think time before each later turn, in milliseconds, counted from the previous answer; unset = none."},
				{Name: "turn_delay_ratio", Type: plugin.TFloat, Default: 1.0,
					Doc: "Multiplies every turn delay (AIPerf --conversation-turn-delay-ratio)."},
				{Name: "batch_size", Type: plugin.TInt, Default: int64(1),
					Doc: "Texts per turn, each of isl tokens (embeddings and other batch endpoints)."},
				{Name: "prefix_prompts", Type: plugin.TInt, Default: int64(0),
					Doc: "Size of a pool of shared prefixes; each prompt starts with one drawn at random (prefix-cache reuse). Needs prefix_length."},
				{Name: "prefix_length", Type: plugin.TInt, Default: int64(0),
					Doc: "Tokens per shared prefix; a prompt is then prefix_length + isl tokens."},
				{Name: "system_prompt_length", Type: plugin.TInt, Default: int64(0),
					Doc: "Tokens of one system prompt shared by every conversation (0 = none); not with prefix_prompts."},
				{Name: "user_context_length", Type: plugin.TInt, Default: int64(0),
					Doc: "Tokens of a context prompt per conversation, sent with every turn (0 = none)."},
				{Name: "images", Type: plugin.TInt, Default: int64(0),
					Doc: "Random-noise images per turn, sent inline as base64 data URLs."},
				{Name: "image_width", Type: plugin.TDist, Default: dist.Fixed{V: 512},
					Doc: "Image width in pixels."},
				{Name: "image_height", Type: plugin.TDist, Default: dist.Fixed{V: 512},
					Doc: "Image height in pixels."},
				{Name: "image_format", Type: plugin.TString, Default: "png", Choices: []string{"png", "jpeg", "random"},
					Doc: "Image encoding; random picks png or jpeg per image."},
				{Name: "audio", Type: plugin.TInt, Default: int64(0),
					Doc: "White-noise WAV clips per turn, sent as input_audio parts."},
				{Name: "audio_duration", Type: plugin.TDist, Default: dist.Fixed{V: 5},
					Doc: "Clip length in seconds."},
				{Name: "audio_sample_rate", Type: plugin.TInt, Default: int64(16000),
					Doc: "Clip sample rate in Hz (16-bit mono PCM)."},
			},
			New: func(a plugin.Args) (any, error) {
				s := &Synthetic{
					ISL:                a.Dist("isl"),
					OSL:                a.Dist("osl"),
					Entries:            int(a.Int("entries")),
					Turns:              a.Dist("turns"),
					TurnDelay:          a.Dist("turn_delay"),
					TurnDelayRatio:     a.Float("turn_delay_ratio"),
					BatchSize:          int(a.Int("batch_size")),
					PrefixPrompts:      int(a.Int("prefix_prompts")),
					PrefixLength:       int(a.Int("prefix_length")),
					SystemPromptLength: int(a.Int("system_prompt_length")),
					UserContextLength:  int(a.Int("user_context_length")),
					Images:             int(a.Int("images")),
					ImageWidth:         a.Dist("image_width"),
					ImageHeight:        a.Dist("image_height"),
					ImageFormat:        a.String("image_format"),
					Audios:             int(a.Int("audio")),
					AudioDuration:      a.Dist("audio_duration"),
					AudioSampleRate:    int(a.Int("audio_sample_rate")),
				}
				if s.Entries < 1 {
					return nil, fmt.Errorf("dataset.synthetic: entries must be >= 1, got %d", s.Entries)
				}
				if q := a.String("sequence_distribution"); q != "" {
					seq, err := dist.ParseSequence(q)
					if err != nil {
						return nil, fmt.Errorf("dataset.synthetic: %w", err)
					}
					s.Sequence = &seq
				}
				if err := s.validate(); err != nil {
					return nil, err
				}
				return s, nil
			},
		},
		"SyntheticRankings": {
			Params: []plugin.Param{
				{Name: "entries", Type: plugin.TInt, Default: int64(100),
					Doc: "Number of distinct queries to compose."},
				{Name: "passages", Type: plugin.TDist, Default: dist.Fixed{V: 1},
					Doc: "Passages per query (at least 1)."},
				{Name: "passage_length", Type: plugin.TDist, Default: dist.Fixed{V: 550},
					Doc: "Tokens per passage (exact)."},
				{Name: "query_length", Type: plugin.TDist, Default: dist.Fixed{V: 550},
					Doc: "Tokens per query (exact)."},
			},
			New: func(a plugin.Args) (any, error) {
				s := &SyntheticRankings{
					Entries:       int(a.Int("entries")),
					Passages:      a.Dist("passages"),
					PassageLength: a.Dist("passage_length"),
					QueryLength:   a.Dist("query_length"),
				}
				if s.Entries < 1 {
					return nil, fmt.Errorf("dataset.synthetic_rankings: entries must be >= 1, got %d", s.Entries)
				}
				return s, nil
			},
		},
		"Custom": {
			Params: []plugin.Param{
				{Name: "path", Type: plugin.TString,
					Doc: "Dataset file (JSONL, or inputs.json), or a directory for random_pool; relative to the scenario."},
				{Name: "type", Type: plugin.TString,
					Doc: "Format: a custom_dataset_loader (single_turn, multi_turn, random_pool, mooncake_trace, inputs_json, bailian_trace, burst_gpt_trace, sharegpt, raw_payload, or a plugin's); unset = detected from the first record."},
				{Name: "records", Type: plugin.TList,
					Doc: "The data itself instead of a file: a list of dicts in the single_turn or multi_turn shape."},
				{Name: "block_size", Type: plugin.TInt,
					Doc: "Tokens per hash id when a trace builds prompts from hash_ids (AIPerf --isl-block-size); unset = the format's: 16 for bailian_trace, 512 for mooncake_trace."},
				{Name: "entries", Type: plugin.TInt, Default: int64(100),
					Doc: "Conversations a random_pool composes."},
				{Name: "synthesis", Type: plugin.TDict,
					Doc: "Rescale a token-count trace before it is sent (AIPerf's --synthesis-* options, see loadstar synthesize): {\"speedup_ratio\": 2, \"prefix_len_multiplier\": 1.5, \"prefix_root_multiplier\": 4, \"prompt_len_multiplier\": 1, \"output_len_multiplier\": 1, \"max_isl\": 8192, \"max_osl\": 1024}; any subset."},
			},
			New: func(a plugin.Args) (any, error) {
				c := &Custom{
					Path:      a.String("path"),
					Type:      a.String("type"),
					Records:   a.List("records"),
					BlockSize: int(a.Int("block_size")),
					Entries:   int(a.Int("entries")),
				}
				if c.Path == "" && c.Records == nil {
					return nil, fmt.Errorf("dataset.custom: give path= (a dataset file) or records= (a list of dicts)")
				}
				if m := a.Dict("synthesis"); m != nil {
					syn, err := SynthesisFromMap(m)
					if err != nil {
						return nil, fmt.Errorf("dataset.custom: synthesis: %w", err)
					}
					c.Synthesis = &syn
				}
				if a.Has("block_size") && c.BlockSize < 1 {
					return nil, fmt.Errorf("dataset.custom: block_size must be >= 1, got %d", c.BlockSize)
				}
				return c, nil
			},
		},
		"MemoryStore": {New: func(plugin.Args) (any, error) { return MemoryStore{}, nil }},
	}
	for key, name := range map[string]string{"SingleTurn": SingleTurn, "MultiTurn": MultiTurn, "RandomPool": RandomPool, "MooncakeTrace": MooncakeTrace,
		"InputsJSON": InputsJSON, "BailianTrace": BailianTrace, "BurstGPTTrace": BurstGPTTrace, "ShareGPT": ShareGPT, "RawPayload": RawPayload} {
		l := builtinLoaders()[name]
		classes[key] = &plugin.Class{New: func(plugin.Args) (any, error) { return l, nil }}
	}
	for key, name := range map[string]string{"Sequential": Sequential, "Random": Random, "Shuffle": Shuffle} {
		strategy := Strategy(name)
		classes[key+"Sampler"] = &plugin.Class{New: func(plugin.Args) (any, error) { return strategy, nil }}
	}
	return classes
}
