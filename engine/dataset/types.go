// Package dataset builds what a benchmark sends: conversations of turns,
// synthesized token-exactly or loaded from files, and the samplers and stores
// that hand them to the timing strategy.
//
// Composers (category dataset_composer): Synthetic (prompts cut from an
// embedded public-domain corpus, each re-encoding to exactly its drawn
// length, see TextGen), SyntheticRankings, and Custom (a file read by a
// custom_dataset_loader: single_turn, multi_turn, random_pool,
// mooncake_trace, inputs_json; or in-script records, see FromRecords).
// Every random choice comes from a stream derived from the seed and the
// concern, so the same seed gives the same dataset.
//
// Samplers (dataset_sampler) are SamplerFactory values bound to the dataset
// size and seed at run start: sequential, random, shuffle.
//
// Stores (dataset_backing_store, dataset_client_store): AIPerf composes the
// dataset in one process, writes it to a memory-mapped file and lets worker
// processes map it, because Python needs processes to use several cores.
// loadstar's senders are goroutines of one process, so the composed dataset
// is already shared read-only memory and MemoryStore just hands it out; no
// copy or serialization happens. ClientStore.Shard keeps the interface ready
// for sharded runs (several processes or machines), each taking a
// deterministic contiguous part.
//
// Multi-turn: a Conversation's turns are sent in order on one session; the
// runner builds each request's history from the earlier turns and the
// server's actual answers (as Role "assistant" turns), and starts over at a
// turn with ResetContext.
package dataset

import (
	"context"
	"log/slog"

	"github.com/loadstar/loadstar/engine/ordered"
	"github.com/loadstar/loadstar/engine/tokenizer"
)

// Named is one named group of modality contents (AIPerf's `{name, contents}`).
// Text contents are strings; image/video contents are URLs or data URLs;
// audio contents are "FORMAT,BASE64" strings or data:audio URLs.
type Named struct {
	Name     string
	Contents []string
}

// Turn is one request's worth of input.
type Turn struct {
	Role   string // "" means "user"
	Texts  []Named
	Images []Named
	Audios []Named
	Videos []Named

	Model     string // overrides the endpoint's model when set
	MaxTokens int    // requested output length; -1 = not set

	// TimestampMs is the absolute send time in a trace (fixed schedule);
	// DelayMs the think time after the previous turn's answer.
	TimestampMs  float64
	HasTimestamp bool
	DelayMs      float64
	HasDelay     bool

	ExtraBody    *ordered.Map // merged last into the payload
	ExtraHeaders [][2]string
	Tools        any   // raw tools (JSON value), chat/responses/messages
	RawMessages  []any // messages spliced as-is (trace `messages`)
	RawPayload   []byte
	ResetContext bool

	// InputTokens is the exact input length when the composer built the
	// prompt to a token count; -1 when unknown.
	InputTokens int
}

// NewTurn returns a user turn with every optional field absent.
func NewTurn() Turn { return Turn{MaxTokens: -1, InputTokens: -1} }

// FirstText returns the first text content, or "".
func (t *Turn) FirstText() string {
	for _, n := range t.Texts {
		for _, c := range n.Contents {
			return c
		}
	}
	return ""
}

// Conversation is a session: turns sent in order on one correlation id.
type Conversation struct {
	ID           string
	Turns        []Turn
	SystemPrompt string // shared system prompt, "" if none
	UserContext  string // per-user context prompt, "" if none
}

// Dataset is the pool of conversations a benchmark draws from.
type Dataset interface {
	// Len returns the number of conversations.
	Len() int
	// Conversation returns conversation i, 0 <= i < Len(). The result is
	// shared and must not be modified.
	Conversation(i int) *Conversation
}

// Sampler chooses which conversation is sent next.
type Sampler interface {
	// Next returns the index of the next conversation.
	Next() int
}

// Info describes a composed dataset to the runner.
type Info struct {
	// Sampler names the dataset_sampler to use when the benchmark picks
	// none: "sequential" for files and traces, "shuffle" for synthetic data
	// and random pools (as AIPerf).
	Sampler string
	// Timestamps is true when turns carry absolute timestamps (a trace):
	// the fixed-schedule strategy applies and samplers do not.
	Timestamps bool
	// Source says where the data came from ("synthetic", a file path, ...).
	Source string
}

// Described is implemented by datasets that carry an Info (every dataset of
// this package does).
type Described interface {
	Info() Info
}

// Composer builds a benchmark's dataset (category dataset_composer).
type Composer interface {
	Compose(ctx context.Context, env *Env) (Dataset, error)
}

// Env is what a composer needs from the run.
type Env struct {
	// Tokenizer counts tokens for exact-length prompts (required by the
	// synthetic composers and by traces that synthesize prompts).
	Tokenizer tokenizer.Tokenizer
	// Seed makes every random choice reproducible; each concern (lengths,
	// corpus offsets, images, ...) draws from its own stream derived from it.
	Seed uint64
	// BaseDir resolves relative paths (the scenario's directory).
	BaseDir string
	// Loader returns the custom_dataset_loader plugin called name; nil uses
	// this package's built-in loaders.
	Loader func(name string) (Loader, error)
	// Rankings is true when the endpoint is a rankings API: the synthetic
	// composer then builds a query and passages per turn.
	Rankings bool
	// Log receives warnings (e.g. a trace line that was skipped); nil = none.
	Log *slog.Logger
}

// Loader reads one custom dataset format (category custom_dataset_loader).
type Loader interface {
	// Load reads req.Path into a dataset.
	Load(ctx context.Context, req *LoadRequest) (Dataset, error)
	// Detect reports whether a sample of the input looks like this format;
	// the custom composer uses it when no type is given.
	Detect(s *Sample) bool
	// DefaultSampler names the sampler AIPerf uses for this format.
	DefaultSampler() string
}

// LoadRequest is one load of a custom dataset.
type LoadRequest struct {
	Path string // resolved path of the file or directory
	Env  *Env
	// BlockSize is the tokens per hash id of trace prompts (0 = the
	// format's, see DefaultBlockSize).
	BlockSize int
	// Entries is the number of conversations a random pool composes
	// (default 100).
	Entries int
	// Synthesis rescales a token-count trace (nil = as it is).
	Synthesis *Synthesis
}

// Sample is what format detection looks at: the path and the first
// non-empty line (or the start of a JSON document).
type Sample struct {
	Path  string
	IsDir bool
	// Keys are the top-level keys of the first record, nil if it is not a
	// JSON object.
	Keys map[string]bool
	// Document is true when the file is one JSON document rather than JSONL;
	// Array when that document is a list (Keys are its first element's).
	Document bool
	Array    bool
	// TypeField is the first record's "type" field ("" if none); it names
	// the format outright when it is a format's name.
	TypeField string
	// CSVHeader holds the columns of a CSV file's first line (nil when the
	// file is not CSV).
	CSVHeader map[string]bool
}

// SamplerFactory is what a dataset_sampler plugin builds: a strategy that is
// bound to the dataset size and the run's seed when the run starts.
type SamplerFactory interface {
	NewSampler(size int, seed uint64) (Sampler, error)
}

// BackingStore keeps a composed dataset for the run
// (category dataset_backing_store).
type BackingStore interface {
	Store(ds Dataset) (ClientStore, error)
}

// ClientStore is how request senders read the dataset
// (category dataset_client_store).
type ClientStore interface {
	Dataset
	// Shard returns the deterministic part of the dataset that shard i of n
	// sends: a contiguous range, the same for every run with the same data.
	Shard(i, n int) (ClientStore, error)
}
