package dataset

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"strconv"
	"sync"

	"github.com/loadstar/loadstar/engine/dist"
)

// Synthetic composes conversations from the embedded corpus with exact
// input token counts (composer "synthetic").
type Synthetic struct {
	// ISL is the input length in tokens of each turn's prompt (default 550).
	ISL dist.Dist
	// OSL is the requested output length (max tokens); nil = not sent.
	OSL dist.Dist
	// Sequence, when set, draws (ISL, OSL) pairs jointly instead.
	Sequence *dist.Sequence
	// Entries is the number of distinct conversations (default 100).
	Entries int
	// Turns is the number of turns per conversation (default 1).
	Turns dist.Dist
	// TurnDelay is the think time before each later turn, in milliseconds
	// (nil = none), multiplied by TurnDelayRatio (default 1).
	TurnDelay      dist.Dist
	TurnDelayRatio float64
	// BatchSize is the number of texts per turn (embeddings/rankings batches).
	BatchSize int
	// PrefixPrompts shared prefixes of PrefixLength tokens; each turn starts
	// with one chosen at random (KV-cache reuse).
	PrefixPrompts, PrefixLength int
	// SystemPromptLength: one system prompt shared by every conversation.
	SystemPromptLength int
	// UserContextLength: a context prompt per conversation, sent every turn.
	UserContextLength int
	// Images per turn, of ImageWidth×ImageHeight pixels, ImageFormat
	// "png", "jpeg" or "random".
	Images                  int
	ImageWidth, ImageHeight dist.Dist
	ImageFormat             string
	// Audios per turn of AudioDuration seconds at AudioSampleRate Hz (WAV).
	Audios          int
	AudioDuration   dist.Dist
	AudioSampleRate int
}

func (s *Synthetic) defaults() {
	if s.ISL == nil {
		s.ISL = dist.Fixed{V: 550}
	}
	if s.Entries <= 0 {
		s.Entries = 100
	}
	if s.Turns == nil {
		s.Turns = dist.Fixed{V: 1}
	}
	if s.TurnDelayRatio == 0 {
		s.TurnDelayRatio = 1
	}
	if s.BatchSize <= 0 {
		s.BatchSize = 1
	}
	if s.ImageWidth == nil {
		s.ImageWidth = dist.Fixed{V: 512}
	}
	if s.ImageHeight == nil {
		s.ImageHeight = dist.Fixed{V: 512}
	}
	if s.ImageFormat == "" {
		s.ImageFormat = "png"
	}
	if s.AudioDuration == nil {
		s.AudioDuration = dist.Fixed{V: 5}
	}
	if s.AudioSampleRate <= 0 {
		s.AudioSampleRate = 16000
	}
}

func (s *Synthetic) validate() error {
	if s.PrefixPrompts < 0 || s.PrefixLength < 0 || s.SystemPromptLength < 0 || s.UserContextLength < 0 || s.Images < 0 || s.Audios < 0 {
		return fmt.Errorf("dataset.synthetic: counts and lengths must be >= 0")
	}
	if (s.PrefixPrompts > 0) != (s.PrefixLength > 0) {
		return fmt.Errorf("dataset.synthetic: prefix_prompts and prefix_length go together (got %d and %d)", s.PrefixPrompts, s.PrefixLength)
	}
	if s.PrefixPrompts > 0 && s.SystemPromptLength > 0 {
		return fmt.Errorf("dataset.synthetic: system_prompt_length cannot be combined with a prefix pool (prefix_prompts)")
	}
	switch s.ImageFormat {
	case "png", "jpeg", "random":
	default:
		return fmt.Errorf("dataset.synthetic: image_format %q: want png, jpeg or random", s.ImageFormat)
	}
	if s.TurnDelayRatio < 0 {
		return fmt.Errorf("dataset.synthetic: turn_delay_ratio must be >= 0")
	}
	return nil
}

// Compose builds the conversations. Each conversation draws from its own
// streams, so the result is the same for a seed whatever the parallelism.
func (s *Synthetic) Compose(ctx context.Context, env *Env) (Dataset, error) {
	c := *s
	c.defaults()
	if err := c.validate(); err != nil {
		return nil, err
	}
	if env.Rankings {
		rk := &SyntheticRankings{Entries: c.Entries, QueryLength: c.ISL, PassageLength: c.ISL}
		return rk.Compose(ctx, env)
	}
	gen, err := NewTextGen(env.Tokenizer)
	if err != nil {
		return nil, err
	}
	var prefixes []string
	for k := 0; k < c.PrefixPrompts; k++ {
		p, err := gen.Text(stream(env.Seed, "prefix", uint64(k)), c.PrefixLength)
		if err != nil {
			return nil, err
		}
		prefixes = append(prefixes, p)
	}
	system := ""
	if c.SystemPromptLength > 0 {
		if system, err = gen.Text(stream(env.Seed, "system_prompt", 0), c.SystemPromptLength); err != nil {
			return nil, err
		}
	}
	convs := make([]Conversation, c.Entries)
	err = parallel(ctx, c.Entries, func(i int) error {
		conv, err := c.conversation(env.Seed, i, gen, prefixes)
		if err != nil {
			return err
		}
		conv.SystemPrompt = system
		convs[i] = conv
		return nil
	})
	if err != nil {
		return nil, err
	}
	return NewSet(convs, Info{Sampler: Shuffle, Source: "synthetic"}), nil
}

func (c *Synthetic) conversation(seed uint64, i int, gen *TextGen, prefixes []string) (Conversation, error) {
	idx := uint64(i)
	rLen, rText := stream(seed, "lengths", idx), stream(seed, "prompt", idx)
	rTurns, rDelay := stream(seed, "turns", idx), stream(seed, "turn_delay", idx)
	rPrefix, rImage, rAudio := stream(seed, "prefix_choice", idx), stream(seed, "image", idx), stream(seed, "audio", idx)
	conv := Conversation{ID: "session_" + strconv.Itoa(i)}
	if c.UserContextLength > 0 {
		ctxText, err := gen.Text(stream(seed, "user_context", idx), c.UserContextLength)
		if err != nil {
			return conv, err
		}
		conv.UserContext = ctxText
	}
	turns := dist.SampleInt(c.Turns, rTurns, 1)
	conv.Turns = make([]Turn, turns)
	for k := range conv.Turns {
		t := NewTurn()
		var isl, osl int
		if c.Sequence != nil {
			a, b := c.Sequence.Sample(rLen)
			isl, osl = max(1, int(a+0.5)), max(1, int(b+0.5))
		} else {
			isl = dist.SampleInt(c.ISL, rLen, 1)
			if c.OSL != nil {
				osl = dist.SampleInt(c.OSL, rLen, 1)
			}
		}
		if osl > 0 {
			t.MaxTokens = osl
		}
		texts := make([]string, c.BatchSize)
		for b := range texts {
			prefix, prefixLen := "", 0
			if len(prefixes) > 0 {
				prefix, prefixLen = prefixes[rPrefix.IntN(len(prefixes))], c.PrefixLength
			}
			var err error
			if texts[b], err = gen.Continue(rText, prefix, prefixLen, prefixLen+isl); err != nil {
				return conv, err
			}
		}
		t.Texts = []Named{{Name: "text", Contents: texts}}
		t.InputTokens = (isl + c.PrefixLength*boolInt(len(prefixes) > 0)) * c.BatchSize
		if k > 0 && c.TurnDelay != nil {
			t.DelayMs = max(0, c.TurnDelay.Sample(rDelay)) * c.TurnDelayRatio
			t.HasDelay = true
		}
		if err := c.media(&t, rImage, rAudio); err != nil {
			return conv, err
		}
		conv.Turns[k] = t
	}
	return conv, nil
}

func (c *Synthetic) media(t *Turn, rImage, rAudio *rand.Rand) error {
	if c.Images > 0 {
		urls := make([]string, c.Images)
		for j := range urls {
			format := c.ImageFormat
			if format == "random" {
				format = [2]string{"png", "jpeg"}[rImage.IntN(2)]
			}
			w, h := dist.SampleInt(c.ImageWidth, rImage, 1), dist.SampleInt(c.ImageHeight, rImage, 1)
			u, err := noiseImage(rImage, w, h, format)
			if err != nil {
				return fmt.Errorf("dataset.synthetic: %w", err)
			}
			urls[j] = u
		}
		t.Images = []Named{{Name: "image_url", Contents: urls}}
	}
	if c.Audios > 0 {
		clips := make([]string, c.Audios)
		for j := range clips {
			a, err := noiseWAV(rAudio, max(0.01, c.AudioDuration.Sample(rAudio)), c.AudioSampleRate)
			if err != nil {
				return fmt.Errorf("dataset.synthetic: %w", err)
			}
			clips[j] = a
		}
		t.Audios = []Named{{Name: "input_audio", Contents: clips}}
	}
	return nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// SyntheticRankings composes rankings requests: a query and passages per
// turn, texts named "query" and "passages" (composer "synthetic_rankings").
type SyntheticRankings struct {
	Entries       int       // conversations (default 100)
	Passages      dist.Dist // passages per query (default 1)
	PassageLength dist.Dist // tokens per passage (default 550)
	QueryLength   dist.Dist // tokens per query (default 550)
}

// Compose builds the rankings conversations.
func (s *SyntheticRankings) Compose(ctx context.Context, env *Env) (Dataset, error) {
	c := *s
	if c.Entries <= 0 {
		c.Entries = 100
	}
	if c.Passages == nil {
		c.Passages = dist.Fixed{V: 1}
	}
	if c.PassageLength == nil {
		c.PassageLength = dist.Fixed{V: 550}
	}
	if c.QueryLength == nil {
		c.QueryLength = dist.Fixed{V: 550}
	}
	gen, err := NewTextGen(env.Tokenizer)
	if err != nil {
		return nil, err
	}
	convs := make([]Conversation, c.Entries)
	err = parallel(ctx, c.Entries, func(i int) error {
		rLen, rText := stream(env.Seed, "rankings_lengths", uint64(i)), stream(env.Seed, "rankings_text", uint64(i))
		ql := dist.SampleInt(c.QueryLength, rLen, 1)
		q, err := gen.Text(rText, ql)
		if err != nil {
			return err
		}
		n := dist.SampleInt(c.Passages, rLen, 1)
		passages := make([]string, n)
		total := ql
		for j := range passages {
			pl := dist.SampleInt(c.PassageLength, rLen, 1)
			if passages[j], err = gen.Text(rText, pl); err != nil {
				return err
			}
			total += pl
		}
		t := NewTurn()
		t.Texts = []Named{{Name: "query", Contents: []string{q}}, {Name: "passages", Contents: passages}}
		t.InputTokens = total
		convs[i] = Conversation{ID: "session_" + strconv.Itoa(i), Turns: []Turn{t}}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return NewSet(convs, Info{Sampler: Shuffle, Source: "synthetic_rankings"}), nil
}

// parallel runs f(0..n-1) on all cores and returns the first error.
func parallel(ctx context.Context, n int, f func(i int) error) error {
	workers := min(runtime.GOMAXPROCS(0), n)
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		next     int
		firstErr error
	)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				if firstErr != nil || next >= n {
					mu.Unlock()
					return
				}
				i := next
				next++
				mu.Unlock()
				err := ctx.Err()
				if err == nil {
					err = f(i)
				}
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					return
				}
			}
		}()
	}
	wg.Wait()
	return firstErr
}
