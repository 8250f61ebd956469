package mock

// api is one wire API the mock speaks: an index into apis.
type api uint8

const (
	apiChat api = iota
	apiCompletions
	apiTGI
	apiTGIStream
	apiMessages
	apiResponses
	apiSolido
	apiEmbeddings
	apiNIMRanking
	apiTEIRerank
	apiCohereRerank
	apiImages
	apiImageEdits
	numAPIs
)

// outputKind is what an API's answer is made of.
type outputKind uint8

const (
	outputText   outputKind = iota // generated tokens (reasoning then content)
	outputNone                     // no generated tokens: embeddings, rankings
	outputImages                   // image events: n·(partial_images+1)
)

// wireAPI is everything the mock knows of one wire API: where it is served,
// how its request is read and how its answer is written. Adding an API is
// one entry in apis (with its parse and emit functions); routing, parsing,
// streaming, bodies and error shapes all read the entry.
type wireAPI struct {
	path string // the POST path that serves it
	// parse fills in the input from a request body; it sets input.stream
	// only when the API streams (TGI's streaming path always does).
	parse func(in *input, body []byte) error
	// reasoning: a reasoning model's answer starts with reasoning tokens.
	reasoning bool
	output    outputKind
	// head, token and tail write a stream: what comes before the first
	// token, the frame(s) of token i, what follows the last one (nil:
	// nothing). body writes the whole non-streaming answer.
	head  func(p *plan, b []byte) []byte
	token func(p *plan, b []byte, i int) []byte
	tail  func(p *plan, b []byte) []byte
	body  func(p *plan, b []byte) []byte
	// errorBody writes an error answer in the API's own shape.
	errorBody func(b []byte, status int, typ, msg string) []byte
}

// apis is the table of wire APIs, indexed by api. It is set in init (with
// the routes built from it): its functions reach plan methods that read it.
var apis [numAPIs]wireAPI

func init() {
	apis = [numAPIs]wireAPI{
		apiChat: {path: "/v1/chat/completions", parse: (*input).parseChat, reasoning: true,
			token: (*plan).chatChunk, tail: (*plan).chatTail, body: (*plan).chatBody, errorBody: openAIError},
		apiCompletions: {path: "/v1/completions", parse: (*input).parseCompletion,
			token: (*plan).completionChunk, tail: (*plan).completionTail, body: (*plan).completionBody, errorBody: openAIError},
		apiTGI: {path: "/generate", parse: (*input).parseTGI,
			body: (*plan).tgiBody, errorBody: tgiError},
		apiTGIStream: {path: "/generate_stream", parse: (*input).parseTGIStream,
			token: (*plan).tgiFrame, body: (*plan).tgiBody, errorBody: tgiError},
		apiMessages: {path: "/v1/messages", parse: (*input).parseMessages, reasoning: true,
			head: (*plan).messagesHead, token: (*plan).messagesToken, tail: (*plan).messagesTail, body: (*plan).messagesBody,
			errorBody: anthropicError},
		apiResponses: {path: "/v1/responses", parse: (*input).parseResponses, reasoning: true,
			head: (*plan).responsesHead, token: (*plan).responsesToken, tail: (*plan).responsesTail, body: (*plan).responsesBody,
			errorBody: openAIError},
		apiSolido: {path: "/rag/api/prompt", parse: (*input).parseSolido,
			body: (*plan).solidoBody, errorBody: openAIError},
		apiEmbeddings: {path: "/v1/embeddings", parse: (*input).parseEmbeddings, output: outputNone,
			body: (*plan).embeddingsBody, errorBody: openAIError},
		apiNIMRanking: {path: "/v1/ranking", parse: (*input).parseNIMRanking, output: outputNone,
			body: (*plan).nimRankingBody, errorBody: openAIError},
		apiTEIRerank: {path: "/rerank", parse: (*input).parseTEIRerank, output: outputNone,
			body: (*plan).teiRerankBody, errorBody: openAIError},
		apiCohereRerank: {path: "/v2/rerank", parse: (*input).parseCohereRerank, output: outputNone,
			body: (*plan).cohereRerankBody, errorBody: openAIError},
		apiImages: {path: "/v1/images/generations", parse: (*input).parseImages, output: outputImages,
			token: (*plan).imageEvent, body: (*plan).imagesBody, errorBody: openAIError},
		apiImageEdits: {path: "/v1/images/edits", parse: (*input).parseImageEdit, output: outputImages,
			body: (*plan).imagesBody, errorBody: openAIError},
	}
	buildRoutes()
}
