package mock

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/valyala/fasthttp"
)

// ---- Solido RAG ----

func (p *plan) solidoBody(b []byte) []byte {
	b = append(b, `{"content":`...)
	b = appendQuotedTokens(b, p.toks)
	b = append(b, `,"sources":[`...)
	h := fnv64(p.in.text)
	for i := range 3 {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"id":"doc_`...)
		b = strconv.AppendUint(b, mix(h, uint64(i))&0xffffffff, 16)
		b = append(b, `","title":"Document `...)
		b = appendInt(b, i+1)
		b = append(b, `","score":`...)
		b = strconv.AppendFloat(b, 0.9-0.1*float64(i), 'f', 1, 64)
		b = append(b, `,"content":"Source `...)
		b = appendInt(b, i+1)
		b = append(b, ` for the query."}`...)
	}
	b = append(b, `],"filters":`...)
	if len(p.in.filters) > 0 {
		b = append(b, p.in.filters...)
	} else {
		b = append(b, "null"...)
	}
	b = append(b, `,"inference_model":`...)
	b = append(b, p.modelJSON...)
	return append(b, '}')
}

// ---- Embeddings ----

// embedding fills v with a deterministic unit vector for text.
func (p *plan) embedding(v []float32, text string) {
	r := rng{s: mix(uint64(p.s.cfg.Seed), fnv64([]byte(text)))}
	var norm float64
	for i := range v {
		x := r.float() - 0.5
		v[i] = float32(x)
		norm += x * x
	}
	if norm = math.Sqrt(norm); norm > 0 {
		for i := range v {
			v[i] = float32(float64(v[i]) / norm)
		}
	}
}

func (p *plan) embeddingsBody(b []byte) []byte {
	b = append(b, `{"object":"list","data":[`...)
	v := make([]float32, p.in.dimensions)
	var raw []byte
	for i, text := range p.in.inputs {
		if i > 0 {
			b = append(b, ',')
		}
		p.embedding(v, text)
		b = append(b, `{"object":"embedding","index":`...)
		b = appendInt(b, i)
		b = append(b, `,"embedding":`...)
		if p.in.base64 { // little-endian float32s, as OpenAI
			raw = raw[:0]
			for _, x := range v {
				raw = binary.LittleEndian.AppendUint32(raw, math.Float32bits(x))
			}
			b = append(b, '"')
			b = base64.StdEncoding.AppendEncode(b, raw)
			b = append(b, '"')
		} else {
			b = append(b, '[')
			for j, x := range v {
				if j > 0 {
					b = append(b, ',')
				}
				b = strconv.AppendFloat(b, float64(x), 'g', -1, 32)
			}
			b = append(b, ']')
		}
		b = append(b, '}')
	}
	b = append(b, `],"model":`...)
	b = append(b, p.modelJSON...)
	b = append(b, `,"usage":{"prompt_tokens":`...)
	b = appendInt(b, p.promptTokens)
	b = append(b, `,"total_tokens":`...)
	b = appendInt(b, p.promptTokens)
	return append(b, "}}"...)
}

// ---- Rankings ----

type scored struct {
	index int
	score float64
}

// scores ranks passages by a deterministic relevance in [0, 1), best first.
func (p *plan) scores() []scored {
	out := make([]scored, len(p.in.passages))
	for i, passage := range p.in.passages {
		h := mix(uint64(p.s.cfg.Seed), fnv64([]byte(p.in.query+"\x00"+passage)))
		out[i] = scored{i, float64(h%1000) / 1000}
	}
	slices.SortStableFunc(out, func(a, b scored) int {
		switch {
		case a.score > b.score:
			return -1
		case a.score < b.score:
			return 1
		}
		return 0
	})
	if p.in.topN > 0 && p.in.topN < len(out) {
		out = out[:p.in.topN]
	}
	return out
}

func appendScore(b []byte, s float64) []byte { return strconv.AppendFloat(b, s, 'f', 3, 64) }

// nimRankingBody is NIM's answer: a logit, and AIPerf's mock's
// relevance_score, per passage.
func (p *plan) nimRankingBody(b []byte) []byte {
	b = append(b, `{"rankings":[`...)
	for i, r := range p.scores() {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"index":`...)
		b = appendInt(b, r.index)
		b = append(b, `,"logit":`...)
		b = appendScore(b, r.score)
		b = append(b, `,"relevance_score":`...)
		b = appendScore(b, r.score)
		b = append(b, '}')
	}
	b = append(b, `],"usage":{"prompt_tokens":`...)
	b = appendInt(b, p.promptTokens)
	b = append(b, `,"total_tokens":`...)
	b = appendInt(b, p.promptTokens)
	return append(b, "}}"...)
}

func (p *plan) cohereRerankBody(b []byte) []byte {
	b = append(b, `{"id":"`...)
	b = append(b, p.id[:]...)
	b = append(b, `","results":[`...)
	for i, r := range p.scores() {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"index":`...)
		b = appendInt(b, r.index)
		b = append(b, `,"relevance_score":`...)
		b = appendScore(b, r.score)
		b = append(b, '}')
	}
	return append(b, `],"meta":{"api_version":{"version":"2"},"billed_units":{"search_units":1}}}`...)
}

// teiRerankBody is Hugging Face TEI's answer: a bare list.
func (p *plan) teiRerankBody(b []byte) []byte {
	b = append(b, '[')
	for i, r := range p.scores() {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"index":`...)
		b = appendInt(b, r.index)
		if p.in.returnText {
			b = append(b, `,"text":`...)
			b = appendJSONString(b, p.in.passages[r.index])
		}
		b = append(b, `,"score":`...)
		b = appendScore(b, r.score)
		b = append(b, '}')
	}
	return append(b, ']')
}

// ---- Images ----

// imageTokens is the output-token count reported per generated image.
const imageTokens = 64

var pngCache sync.Map // color index -> base64 PNG

// imagePNG returns a deterministic 8×8 one-colour PNG (base64) for image i.
func (p *plan) imagePNG(i int) string {
	k := uint8(mix(fnv64(p.in.text), uint64(i)) % 64)
	if v, ok := pngCache.Load(k); ok {
		return v.(string)
	}
	img := image.NewRGBA(image.Rect(0, 0, 8, 8))
	c := color.RGBA{R: 64 + 48*(k&3), G: 64 + 48*((k>>2)&3), B: 64 + 48*((k>>4)&3), A: 255}
	for x := range 8 {
		for y := range 8 {
			img.Set(x, y, c)
		}
	}
	var buf bytes.Buffer
	_ = png.Encode(&buf, img) // cannot fail on a bytes.Buffer
	s := base64.StdEncoding.EncodeToString(buf.Bytes())
	pngCache.Store(k, s)
	return s
}

func (p *plan) imagesUsage(b []byte) []byte {
	out := p.in.n * imageTokens
	b = append(b, `{"total_tokens":`...)
	b = appendInt(b, p.promptTokens+out)
	b = append(b, `,"input_tokens":`...)
	b = appendInt(b, p.promptTokens)
	b = append(b, `,"output_tokens":`...)
	b = appendInt(b, out)
	b = append(b, `,"input_tokens_details":{"text_tokens":`...)
	b = appendInt(b, p.promptTokens)
	return append(b, `,"image_tokens":0}}`...)
}

func (p *plan) imageMeta(b []byte) []byte {
	if p.in.size != "" {
		b = append(b, `,"size":`...)
		b = appendJSONString(b, p.in.size)
	}
	if p.in.quality != "" {
		b = append(b, `,"quality":`...)
		b = appendJSONString(b, p.in.quality)
	}
	return append(b, `,"background":"opaque","output_format":"png"`...)
}

// imageEvent is stream event i: partial images then the completed image,
// for each of the n images.
func (p *plan) imageEvent(b []byte, i int) []byte {
	per := p.in.partialImages + 1
	img, k := i/per, i%per
	final := k == per-1
	typ := "image_generation.partial_image"
	if final {
		typ = "image_generation.completed"
	}
	b = append(b, "event: "...)
	b = append(b, typ...)
	b = append(b, "\ndata: {\"type\":\""...)
	b = append(b, typ...)
	b = append(b, `","b64_json":"`...)
	b = append(b, p.imagePNG(img)...)
	b = append(b, `","created_at":`...)
	b = strconv.AppendInt(b, p.created, 10)
	b = p.imageMeta(b)
	if final {
		b = append(b, `,"usage":`...)
		b = p.imagesUsage(b)
	} else {
		b = append(b, `,"partial_image_index":`...)
		b = appendInt(b, k)
	}
	return append(b, "}\n\n"...)
}

func (p *plan) imagesBody(b []byte) []byte {
	b = append(b, `{"created":`...)
	b = strconv.AppendInt(b, p.created, 10)
	b = append(b, `,"data":[`...)
	for i := range p.in.n {
		if i > 0 {
			b = append(b, ',')
		}
		if p.in.urlFormat {
			b = append(b, `{"url":"data:image/png;base64,`...)
		} else {
			b = append(b, `{"b64_json":"`...)
		}
		b = append(b, p.imagePNG(i)...)
		b = append(b, `"}`...)
	}
	b = append(b, ']')
	b = p.imageMeta(b)
	b = append(b, `,"usage":`...)
	b = p.imagesUsage(b)
	return append(b, '}')
}

// ---- errors, models, metrics ----

// errorReply answers status with an error body in the API's own shape.
func (s *Server) errorReply(ctx *fasthttp.RequestCtx, a api, status int, typ, msg string) {
	ctx.SetStatusCode(status)
	ctx.SetContentType("application/json")
	ctx.SetBody(apis[a].errorBody(nil, status, typ, msg))
}

// openAIError is OpenAI's error shape, with the status as an integer code.
func openAIError(b []byte, status int, typ, msg string) []byte {
	b = append(b, `{"error":{"message":`...)
	b = appendJSONString(b, msg)
	b = append(b, `,"type":"`...)
	b = append(b, typ...)
	b = append(b, `","param":null,"code":`...)
	b = appendInt(b, status)
	return append(b, "}}"...)
}

// anthropicError is Anthropic's error shape; its type follows the status.
func anthropicError(b []byte, status int, _, msg string) []byte {
	atyp := map[int]string{400: "invalid_request_error", 404: "not_found_error", 405: "invalid_request_error", 429: "rate_limit_error"}[status]
	if atyp == "" {
		atyp = "api_error"
	}
	b = append(b, `{"type":"error","error":{"type":"`...)
	b = append(b, atyp...)
	b = append(b, `","message":`...)
	b = appendJSONString(b, msg)
	return append(b, "}}"...)
}

// tgiError is Hugging Face TGI's error shape; its type follows the status.
func tgiError(b []byte, status int, _, msg string) []byte {
	ttyp := map[int]string{400: "validation", 429: "overloaded"}[status]
	if ttyp == "" {
		ttyp = "generation"
	}
	b = append(b, `{"error":`...)
	b = appendJSONString(b, msg)
	b = append(b, `,"error_type":"`...)
	b = append(b, ttyp...)
	return append(b, `"}`...)
}

func (s *Server) serveModels(ctx *fasthttp.RequestCtx) {
	s.modelsMu.Lock()
	models := slices.Clone(s.models)
	s.modelsMu.Unlock()
	created := time.Now().Unix()
	b := []byte(`{"object":"list","data":[`)
	for i, m := range models {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"id":`...)
		b = appendJSONString(b, m)
		b = append(b, `,"object":"model","created":`...)
		b = strconv.AppendInt(b, created, 10)
		b = append(b, `,"owned_by":"loadstar-mock"}`...)
	}
	b = append(b, "]}"...)
	ctx.SetContentType("application/json")
	ctx.SetBody(b)
}

// serveMetrics writes the counters in the Prometheus text format: the
// mock's own (loadstar_mock_*), then its engine model in vLLM's names.
func (s *Server) serveMetrics(ctx *fasthttp.RequestCtx) {
	st := s.Stats()
	var b bytes.Buffer
	b.WriteString("# HELP loadstar_mock_requests_total Requests received by the mock server, by path.\n# TYPE loadstar_mock_requests_total counter\n")
	for _, r := range routes {
		fmt.Fprintf(&b, "loadstar_mock_requests_total{path=%q} %d\n", r.path, st.Requests[r.path])
	}
	b.WriteString("# HELP loadstar_mock_responses_total Responses sent, by HTTP status.\n# TYPE loadstar_mock_responses_total counter\n")
	codes := make([]int, 0, len(st.Statuses))
	for c := range st.Statuses {
		codes = append(codes, c)
	}
	slices.Sort(codes)
	for _, c := range codes {
		fmt.Fprintf(&b, "loadstar_mock_responses_total{code=\"%d\"} %d\n", c, st.Statuses[c])
	}
	b.WriteString("# HELP loadstar_mock_faults_total Faults injected, by kind.\n# TYPE loadstar_mock_faults_total counter\n")
	for _, f := range Faults {
		fmt.Fprintf(&b, "loadstar_mock_faults_total{fault=%q} %d\n", f, st.Faults[f])
	}
	fmt.Fprintf(&b, "# HELP loadstar_mock_requests_in_flight Inference requests being answered.\n# TYPE loadstar_mock_requests_in_flight gauge\nloadstar_mock_requests_in_flight %d\n", st.InFlight)
	fmt.Fprintf(&b, "# HELP loadstar_mock_requests_in_flight_max Most inference requests in flight at once.\n# TYPE loadstar_mock_requests_in_flight_max gauge\nloadstar_mock_requests_in_flight_max %d\n", st.MaxInFlight)
	fmt.Fprintf(&b, "# HELP loadstar_mock_prompt_tokens_total Input tokens reported in usage.\n# TYPE loadstar_mock_prompt_tokens_total counter\nloadstar_mock_prompt_tokens_total %d\n", st.PromptTokens)
	fmt.Fprintf(&b, "# HELP loadstar_mock_completion_tokens_total Output tokens generated.\n# TYPE loadstar_mock_completion_tokens_total counter\nloadstar_mock_completion_tokens_total %d\n", st.CompletionTokens)
	s.appendVLLMMetrics(&b)
	ctx.SetContentType("text/plain; version=0.0.4; charset=utf-8")
	ctx.SetBody(b.Bytes())
}
