// Package record defines what one finished request becomes: a compact Record
// with every timestamp, the parsed responses, usage and error details. The
// engine fills Records; metrics, exporters and the console read them.
//
// All times are monotonic nanoseconds from the run's clock (engine/clock);
// StartWallNs anchors them to wall-clock time for export.
package record

// Phase is the benchmark phase a request belongs to.
type Phase uint8

const (
	// Profiling records are measured.
	Profiling Phase = iota
	// Warmup records are excluded from every metric.
	Warmup
)

// String returns AIPerf's benchmark_phase value.
func (p Phase) String() string {
	if p == Warmup {
		return "warmup"
	}
	return "profiling"
}

// Kind classifies one parsed response (an SSE message or a whole body).
type Kind uint8

const (
	// KindText carries output text.
	KindText Kind = iota + 1
	// KindReasoning carries reasoning text and possibly content text.
	KindReasoning
	// KindToolCall carries tool-call text (name + arguments) and possibly content.
	KindToolCall
	// KindEmbeddings carries embedding vectors (count in Response.Items).
	KindEmbeddings
	// KindRankings carries rankings (count in Response.Items).
	KindRankings
	// KindImage carries generated images (count in Response.Items).
	KindImage
	// KindPlaceholder is an empty-text response kept only for timing
	// (Responses API output_text.done after deltas). It counts as content.
	KindPlaceholder
	// KindUsage is a usage-only response: kept for token counts, excluded
	// from content timing.
	KindUsage
)

// IsContent reports whether a response of this kind counts as content for
// timing (TTFT, latency, ICL). Usage-only responses do not.
func (k Kind) IsContent() bool { return k != 0 && k != KindUsage }

// Response is one parsed response. Text is not stored here but appended to
// the Record's Output / Reasoning buffers; the offsets locate it, so parsing a
// chunk allocates nothing once the buffers have grown.
type Response struct {
	PerfNs int64
	Kind   Kind
	// OutputOff/OutputLen locate this response's output (content or tool)
	// text in Record.Output.
	OutputOff, OutputLen int32
	// ReasoningOff/ReasoningLen locate its reasoning text in Record.Reasoning.
	ReasoningOff, ReasoningLen int32
	// Items counts embeddings, rankings or images in this response.
	Items int32
}

// HasOutputText reports whether the response carries non-empty output text
// (used by time_to_first_output_token).
func (r *Response) HasOutputText() bool { return r.OutputLen > 0 }

// Usage is the server-reported token usage (wire.md §10); -1 means absent.
type Usage struct {
	PromptTokens     int64
	CompletionTokens int64
	TotalTokens      int64
	ReasoningTokens  int64
	CachedTokens     int64 // prompt cache reads (OpenAI cached_tokens, Anthropic cache_read)
	CacheWriteTokens int64
	// FirstContentChunkTokens is the cumulative completion_tokens of the
	// first content chunk that carried usage (per-chunk usage), -1 if none.
	FirstContentChunkTokens int64
}

// NoUsage is a Usage with every field absent.
var NoUsage = Usage{-1, -1, -1, -1, -1, -1, -1}

// ErrorDetails describes why a request failed (AIPerf's ErrorDetails).
type ErrorDetails struct {
	Code    int    `json:"code"`
	Type    string `json:"type"`
	Message string `json:"message"`
	Cause   string `json:"cause,omitempty"`
}

// Error types used across the engine. Stable: they appear in artifacts.
const (
	ErrCancelled    = "RequestCancellationError"
	ErrNoContent    = "InvalidInferenceResultError"
	ErrConnect      = "ConnectionError"
	ErrTimeout      = "TimeoutError"
	ErrSendTimeout  = "RequestSendTimeout"
	ErrDisconnect   = "ServerDisconnectedError"
	ErrSSE          = "SSEResponseError"
	ErrParse        = "ResponseParseError"
	ErrPayload      = "PayloadFormatError"
	ErrGraceExpired = "GracePeriodExpired"
	// ErrTooLarge: the response body exceeded the transport's
	// max_response_bytes; reading stopped there (docs/reliability.md).
	ErrTooLarge = "ResponseTooLarge"
	// ErrFileLimit: the client could not open a connection because the
	// process ran out of file descriptors (EMFILE/ENFILE): a limit of
	// the machine running loadstar, not of the server.
	ErrFileLimit = "ClientFileLimitError"
	// ErrRedirect: a redirect that was not followed (another host, a
	// method change, or more than max_redirects).
	ErrRedirect      = "RedirectNotFollowed"
	CodeCancelled    = 499
	CodeSSEErrorBase = 502
)

// Record is one request, finished. Fields are filled by different layers:
// identity and schedule by the timing strategy, wire timestamps by the
// transport, Responses/Output/Usage by the endpoint's parser.
type Record struct {
	// Identity.
	Phase Phase
	// PhaseIndex numbers the phase of a multi-phase run (config.Phases)
	// from 0; 0 otherwise.
	PhaseIndex     int
	SessionNum     int    // request index (single-turn) or session index
	ConversationID string // dataset conversation id
	TurnIndex      int
	NumTurns       int
	XRequestID     string // per-request UUID sent as X-Request-ID
	XCorrelationID string // per-session UUID sent as X-Correlation-ID
	URLIndex       int
	Model          string

	// Schedule (monotonic ns). ScheduledNs is when the request should have
	// been sent by the plan; CreditNs when the strategy released it.
	ScheduledNs int64
	CreditNs    int64

	// Wire timestamps (monotonic ns).
	StartNs     int64 // send start (before connection acquisition)
	SentNs      int64 // request fully written
	HeadersNs   int64 // response status line and headers received (0 if never)
	EndNs       int64 // response fully read, or the failure
	StartWallNs int64 // wall-clock Unix ns at StartNs

	// HTTP.
	Status        int
	ConnReused    bool
	BytesSent     int64
	BytesReceived int64
	Chunks        int32 // network reads of the body
	// Streamed is set when the answer arrived as an event stream
	// (text/event-stream), whatever the request asked for: streaming-only
	// metrics exist only for such records (AIPerf's RequestRecord.streamed).
	Streamed bool

	// HTTP trace (k6's and AIPerf's http_req_* phases). Durations in ns;
	// DNSNs, ConnectNs and TLSNs are 0 for a reused connection, where the
	// phase did not happen. SendStartNs is when the request began to be
	// written (the connection was ready); FirstByteNs and LastByteNs are the
	// reads that brought the first and last response body bytes (0 when
	// the response had no body).
	BlockedNs, DNSNs, ConnectNs, TLSNs   int64
	SendStartNs, FirstByteNs, LastByteNs int64

	// Parsed answer.
	Responses []Response
	Output    []byte // concatenated output (content + tool) text
	Reasoning []byte // concatenated reasoning text
	Usage     Usage

	// Request side.
	RequestedOSL int    // max tokens sent, -1 if none
	InputTokens  int    // ISL when known before the run (dataset), -1 if not
	Payload      []byte // the exact body sent (kept for inputs/raw export and ISL)

	// Failure.
	Error       *ErrorDetails
	Cancelled   bool
	CancelledNs int64
}

// Reset clears r for reuse, keeping buffer capacity.
func (r *Record) Reset() {
	resp, out, reas, pay := r.Responses[:0], r.Output[:0], r.Reasoning[:0], r.Payload[:0]
	*r = Record{Responses: resp, Output: out, Reasoning: reas, Payload: pay, Usage: NoUsage, RequestedOSL: -1, InputTokens: -1}
}

// New returns an empty record with every optional count absent.
func New() *Record {
	r := &Record{}
	r.Reset()
	return r
}

// AddText appends a content response with output text (may be empty only for
// placeholders) stamped perfNs.
func (r *Record) AddText(perfNs int64, kind Kind, output, reasoning []byte) {
	resp := Response{PerfNs: perfNs, Kind: kind,
		OutputOff: int32(len(r.Output)), OutputLen: int32(len(output)),
		ReasoningOff: int32(len(r.Reasoning)), ReasoningLen: int32(len(reasoning))}
	r.Output = append(r.Output, output...)
	r.Reasoning = append(r.Reasoning, reasoning...)
	r.Responses = append(r.Responses, resp)
}

// AddItems appends a non-text content response (embeddings, rankings, images).
func (r *Record) AddItems(perfNs int64, kind Kind, items int) {
	r.Responses = append(r.Responses, Response{PerfNs: perfNs, Kind: kind, Items: int32(items)})
}

// AddUsage appends a usage-only response and records u as the latest usage.
func (r *Record) AddUsage(perfNs int64, u Usage) {
	r.Responses = append(r.Responses, Response{PerfNs: perfNs, Kind: KindUsage})
	r.Usage = u
}

// SetError marks the record failed. The first error wins.
func (r *Record) SetError(code int, typ, msg string) {
	if r.Error == nil {
		r.Error = &ErrorDetails{Code: code, Type: typ, Message: msg}
	}
}

// OutputText returns resp's output text (a view into r.Output).
func (r *Record) OutputText(resp *Response) []byte {
	return r.Output[resp.OutputOff : resp.OutputOff+resp.OutputLen]
}

// ReasoningText returns resp's reasoning text (a view into r.Reasoning).
func (r *Record) ReasoningText(resp *Response) []byte {
	return r.Reasoning[resp.ReasoningOff : resp.ReasoningOff+resp.ReasoningLen]
}

// Content returns the content responses (excluding usage-only ones) in order.
// It allocates; metric code on large runs should iterate Responses instead.
func (r *Record) Content() []Response {
	out := make([]Response, 0, len(r.Responses))
	for _, resp := range r.Responses {
		if resp.Kind.IsContent() {
			out = append(out, resp)
		}
	}
	return out
}

// Valid applies AIPerf's validity rule: no error, at least one content
// response, 0 <= start < end, every response time > 0.
func (r *Record) Valid() bool {
	if r.Error != nil || r.StartNs < 0 || r.StartNs >= r.EndNs {
		return false
	}
	content := false
	for i := range r.Responses {
		if r.Responses[i].PerfNs <= 0 {
			return false
		}
		if r.Responses[i].Kind.IsContent() {
			content = true
		}
	}
	return content
}

// IssueDelayNs is how late the request was sent versus its schedule.
func (r *Record) IssueDelayNs() int64 { return r.StartNs - r.ScheduledNs }
