package dataset

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"
)

// Token-count trace formats: rows that give lengths (and hash ids) rather
// than text, with timestamps.
const (
	BailianTrace  = "bailian_trace"
	BurstGPTTrace = "burst_gpt_trace"
)

// bailianBlockSize is the tokens per hash id of the Bailian traces (their
// salted SipHash blocks are 16 tokens).
const bailianBlockSize = 16

// DefaultBlockSize returns the tokens per hash id of a trace format: 16 for
// bailian_trace, 512 for the others (Mooncake's), as AIPerf's loaders
// declare them.
func DefaultBlockSize(format string) int {
	if format == BailianTrace {
		return bailianBlockSize
	}
	return defaultBlockSize
}

// TraceRow is one request of a token-count trace (mooncake_trace rows with
// input_length, bailian_trace, burst_gpt_trace) as the trace tools read it.
type TraceRow struct {
	// Line is the row's line in the file (1-based; CSV: counting the header).
	Line int
	// Session groups the rows of one conversation ("" = a session of its
	// own); Turn orders them within it.
	Session string
	Turn    int
	// TimestampMs is the arrival time in milliseconds; DelayMs a think time
	// after the previous turn of the session.
	TimestampMs  float64
	HasTimestamp bool
	DelayMs      float64
	HasDelay     bool
	// InputLength is the prompt's tokens (0 for a row that carries its
	// text, messages or payload); OutputLength the answer's (-1: absent).
	InputLength  int
	OutputLength int
	HashIDs      []int64
	// SelfContained rows carry their whole context (Bailian): a later turn
	// is sent without the session's history.
	SelfContained bool
}

// ReadTrace reads the rows of a token-count trace in file order. format is
// mooncake_trace, bailian_trace or burst_gpt_trace ("" detects it). Errors
// name the file and line.
func ReadTrace(ctx context.Context, path, format string) ([]TraceRow, string, error) {
	if format == "" {
		s, err := SampleOf(path, false)
		if err != nil {
			return nil, "", err
		}
		switch {
		case bailianLoader{}.Detect(s):
			format = BailianTrace
		case burstGPTLoader{}.Detect(s):
			format = BurstGPTTrace
		case mooncakeLoader{}.Detect(s):
			format = MooncakeTrace
		default:
			return nil, "", fmt.Errorf("%s: not a token-count trace (want mooncake_trace, bailian_trace or burst_gpt_trace rows)", path)
		}
	}
	var rows []TraceRow
	add := func(r TraceRow) error { rows = append(rows, r); return nil }
	var err error
	switch format {
	case MooncakeTrace:
		err = readMooncakeRows(ctx, path, add)
	case BailianTrace:
		err = readBailianRows(ctx, path, add)
	case BurstGPTTrace:
		err = readBurstGPTRows(ctx, path, add)
	default:
		err = fmt.Errorf("%s: %s is not a token-count trace format (want mooncake_trace, bailian_trace or burst_gpt_trace)", path, format)
	}
	return rows, format, err
}

// readMooncakeRows reads the rows of a Mooncake trace; rows with text,
// messages or a payload have InputLength 0.
func readMooncakeRows(ctx context.Context, path string, add func(TraceRow) error) error {
	return eachLine(ctx, path, func(line []byte, n int) error {
		var rec traceRecord
		if err := decodeStrict(line, &rec, traceFields); err != nil {
			return lineError(path, n, err)
		}
		var arena []int64
		t, err := rec.compact(0, &arena) // block size 0: the reader checks hash ids against its own
		if err != nil {
			return lineError(path, n, err)
		}
		key, err := sessionKey(rec.SessionID)
		if err != nil {
			return lineError(path, n, err)
		}
		return add(TraceRow{Line: n, Session: key, TimestampMs: t.ts, HasTimestamp: t.hasTS, DelayMs: t.delay, HasDelay: t.hasDel,
			InputLength: int(t.inLen), OutputLength: int(t.outLen), HashIDs: append([]int64(nil), rec.HashIDs...)})
	})
}

// ---- bailian_trace ----

// bailianLoader reads Alibaba's Bailian usage traces
// (github.com/alibaba-edu/qwen-bailian-usagetraces-anon): one request per
// line with chat_id, parent_chat_id (-1 for a root), timestamp in seconds,
// input_length, output_length, type, turn and 16-token hash_ids.
type bailianLoader struct{}

func (bailianLoader) DefaultSampler() string { return Sequential }
func (bailianLoader) tokenTrace()            {}
func (bailianLoader) Detect(s *Sample) bool {
	return !s.IsDir && !s.Document && s.Keys["chat_id"] && hasAny(s.Keys, "parent_chat_id", "turn", "input_length")
}

type bailianRecord struct {
	ChatID       *int64   `json:"chat_id"`
	ParentChatID *int64   `json:"parent_chat_id"`
	Timestamp    *float64 `json:"timestamp"`
	InputLength  *int     `json:"input_length"`
	OutputLength *int     `json:"output_length"`
	Type         string   `json:"type"` // the request type: text, search, image, file
	Turn         *int     `json:"turn"`
	HashIDs      []int64  `json:"hash_ids"`
}

const bailianFields = "chat_id, parent_chat_id, timestamp, input_length, output_length, type, turn, hash_ids"

// readBailianRows reads a Bailian trace. Turns are linked by
// parent_chat_id; a row's session is the root of its chain (AIPerf's
// grouping), and rows are returned in file order.
func readBailianRows(ctx context.Context, path string, add func(TraceRow) error) error {
	type row struct {
		TraceRow
		chat, parent int64
	}
	var rows []row
	err := eachLine(ctx, path, func(line []byte, n int) error {
		var rec bailianRecord
		if err := decodeStrict(line, &rec, bailianFields); err != nil {
			return lineError(path, n, err)
		}
		r := row{TraceRow: TraceRow{Line: n, OutputLength: -1, SelfContained: true, HashIDs: rec.HashIDs, Turn: 1}, parent: -1}
		switch {
		case rec.ChatID == nil:
			return lineError(path, n, errors.New(`missing field "chat_id"`))
		case rec.Timestamp == nil:
			return lineError(path, n, errors.New(`missing field "timestamp" (seconds)`))
		case rec.InputLength == nil:
			return lineError(path, n, errors.New(`missing field "input_length"`))
		case *rec.InputLength <= 0:
			return lineError(path, n, fmt.Errorf(`field "input_length": must be > 0, got %d`, *rec.InputLength))
		case *rec.Timestamp < 0:
			return lineError(path, n, fmt.Errorf(`field "timestamp": must be >= 0 (seconds), got %v`, *rec.Timestamp))
		}
		r.chat = *rec.ChatID
		if rec.ParentChatID != nil {
			r.parent = *rec.ParentChatID
		}
		if rec.Turn != nil {
			r.Turn = *rec.Turn
		}
		r.TimestampMs, r.HasTimestamp = *rec.Timestamp*1000, true
		r.InputLength = *rec.InputLength
		if rec.OutputLength != nil {
			if *rec.OutputLength < 0 {
				return lineError(path, n, fmt.Errorf(`field "output_length": must be >= 0, got %d`, *rec.OutputLength))
			}
			r.OutputLength = *rec.OutputLength
		}
		rows = append(rows, r)
		return nil
	})
	if err != nil {
		return err
	}
	byChat := make(map[int64]int, len(rows))
	for i, r := range rows {
		byChat[r.chat] = i
	}
	root := func(i int) int64 {
		seen := map[int64]bool{}
		cur := rows[i]
		for cur.parent != -1 && !seen[cur.chat] {
			seen[cur.chat] = true
			j, ok := byChat[cur.parent]
			if !ok || cur.parent == cur.chat {
				break
			}
			cur = rows[j]
		}
		return cur.chat
	}
	for i := range rows {
		rows[i].Session = strconv.FormatInt(root(i), 10)
		if err := add(rows[i].TraceRow); err != nil {
			return err
		}
	}
	return nil
}

// Load builds the trace's conversations: rows with the same root chat form
// one session in turn order, each turn self-contained (its input_length is
// the whole request, history included), its prompt built from its 16-token
// hash ids like a Mooncake row's.
func (bailianLoader) Load(ctx context.Context, req *LoadRequest) (Dataset, error) {
	rows, _, err := ReadTrace(ctx, req.Path, BailianTrace)
	if err != nil {
		return nil, err
	}
	return loadTokenTrace(req, rows, BailianTrace)
}

// ---- burst_gpt_trace ----

// burstGPTLoader reads BurstGPT's CSV (github.com/HPMLL/BurstGPT): the
// columns Timestamp (seconds), Request tokens and Response tokens; others
// (Model, Total tokens, Log Type) are ignored. Every row is a request of
// its own with a synthesized prompt; failed requests (0 tokens) are skipped.
type burstGPTLoader struct{}

var burstGPTColumns = []string{"Timestamp", "Request tokens", "Response tokens"}

func (burstGPTLoader) DefaultSampler() string { return Sequential }
func (burstGPTLoader) tokenTrace()            {}
func (burstGPTLoader) Detect(s *Sample) bool {
	if s.IsDir || s.CSVHeader == nil {
		return false
	}
	for _, c := range burstGPTColumns {
		if !s.CSVHeader[c] {
			return false
		}
	}
	return true
}

// readBurstGPTRows reads a BurstGPT CSV. Rows with no request or no
// response tokens are the failed requests BurstGPT logs: they cannot be
// replayed (an answer of 0 tokens is no answer) and are skipped.
func readBurstGPTRows(ctx context.Context, path string, add func(TraceRow) error) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.ReuseRecord = true
	header, err := r.Read()
	if err != nil {
		return fmt.Errorf("%s: no CSV header: %v", path, err)
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))] = i
	}
	idx := make([]int, len(burstGPTColumns))
	for i, c := range burstGPTColumns {
		j, ok := col[c]
		if !ok {
			return fmt.Errorf("%s:1: missing column %q (BurstGPT needs %s)", path, c, strings.Join(burstGPTColumns, ", "))
		}
		idx[i] = j
	}
	for n := 2; ; n++ {
		rec, err := r.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %v", path, err)
		}
		if n%4096 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		ts, err := strconv.ParseFloat(strings.TrimSpace(rec[idx[0]]), 64)
		if err != nil || ts < 0 || math.IsInf(ts, 0) {
			return fmt.Errorf("%s:%d: column Timestamp: want seconds >= 0, got %q", path, n, rec[idx[0]])
		}
		in, err := strconv.Atoi(strings.TrimSpace(rec[idx[1]]))
		if err != nil || in < 0 {
			return fmt.Errorf("%s:%d: column Request tokens: want a whole number >= 0, got %q", path, n, rec[idx[1]])
		}
		out, err := strconv.Atoi(strings.TrimSpace(rec[idx[2]]))
		if err != nil || out < 0 {
			return fmt.Errorf("%s:%d: column Response tokens: want a whole number >= 0, got %q", path, n, rec[idx[2]])
		}
		if in == 0 || out == 0 {
			continue
		}
		if err := add(TraceRow{Line: n, TimestampMs: ts * 1000, HasTimestamp: true, InputLength: in, OutputLength: out}); err != nil {
			return err
		}
	}
}

// Load builds one single-turn conversation per row.
func (burstGPTLoader) Load(ctx context.Context, req *LoadRequest) (Dataset, error) {
	rows, _, err := ReadTrace(ctx, req.Path, BurstGPTTrace)
	if err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("%s: no requests with tokens (rows with 0 request or response tokens are failed requests and skipped)", req.Path)
	}
	return loadTokenTrace(req, rows, BurstGPTTrace)
}

// maxTraceTokens bounds a trace row's input and output lengths: rows keep
// them as int32 (a larger one would wrap to another length).
const maxTraceTokens = math.MaxInt32

// tokenLengthsFit refuses lengths a row cannot hold.
func tokenLengthsFit(in, out int) error {
	if in > maxTraceTokens {
		return fmt.Errorf("field \"input_length\": must be at most %d tokens, got %d", maxTraceTokens, in)
	}
	if out > maxTraceTokens {
		return fmt.Errorf("field \"output_length\": must be at most %d tokens, got %d", maxTraceTokens, out)
	}
	return nil
}

// loadTokenTrace builds the lazy dataset of token-count rows: sessions in
// order of first appearance, turns in turn order, prompts synthesized from
// lengths and hash ids when a conversation is asked for.
func loadTokenTrace(req *LoadRequest, rows []TraceRow, format string) (Dataset, error) {
	block := req.BlockSize
	if block <= 0 {
		block = DefaultBlockSize(format)
	}
	if s := req.Synthesis; s != nil {
		syn := *s
		if req.Env != nil {
			syn.Seed = req.Env.Seed
		}
		var err error
		if rows, _, err = syn.Apply(rows, block); err != nil {
			return nil, fmt.Errorf("%s: synthesis: %w", req.Path, err)
		}
		if len(rows) == 0 {
			return nil, fmt.Errorf("%s: synthesis: every row's prompt is longer than max_isl %d", req.Path, s.MaxISL)
		}
	}
	tr := &trace{block: block}
	bySession := map[string]int{}
	groups := [][]int{}
	for i, r := range rows {
		if err := tokenLengthsFit(r.InputLength, r.OutputLength); err != nil {
			return nil, lineError(req.Path, r.Line, err)
		}
		if k := len(r.HashIDs); k > 0 && r.InputLength <= (k-1)*block {
			return nil, lineError(req.Path, r.Line, fmt.Errorf("field \"input_length\": %d tokens cannot hold %d hash_ids of %d-token blocks (needs more than %d)",
				r.InputLength, k, block, (k-1)*block))
		}
		g, ok := bySession[r.Session]
		if !ok || r.Session == "" {
			g = len(groups)
			groups = append(groups, nil)
			if r.Session != "" {
				bySession[r.Session] = g
			}
		}
		groups[g] = append(groups[g], i)
	}
	for gi, g := range groups {
		sort.SliceStable(g, func(a, b int) bool { return rows[g[a]].Turn < rows[g[b]].Turn })
		s := traceSession{id: sessionName(rows[g[0]].Session, gi), lo: int32(len(tr.turns))}
		for k, i := range g {
			r := rows[i]
			t := traceTurn{ts: r.TimestampMs, hasTS: r.HasTimestamp, delay: r.DelayMs, hasDel: r.HasDelay,
				inLen: int32(r.InputLength), outLen: int32(r.OutputLength), line: int32(r.Line), reset: r.SelfContained && k > 0}
			t.hashLo = int32(len(tr.arena))
			tr.arena = append(tr.arena, r.HashIDs...)
			t.hashHi = int32(len(tr.arena))
			tr.turns = append(tr.turns, t)
		}
		s.hi = int32(len(tr.turns))
		tr.sessions = append(tr.sessions, s)
	}
	if len(tr.turns) == 0 {
		return nil, fmt.Errorf("%s: no records", req.Path)
	}
	if req.Env == nil || req.Env.Tokenizer == nil {
		return nil, fmt.Errorf("%s: a %s trace needs a tokenizer to build its prompts", req.Path, format)
	}
	var err error
	if tr.gen, err = NewTextGen(req.Env.Tokenizer); err != nil {
		return nil, err
	}
	tr.seed = req.Env.Seed
	return newLazySet(len(tr.sessions), tr.conversation, Info{Sampler: Sequential, Timestamps: true, Source: req.Path}), nil
}
