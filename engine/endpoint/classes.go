package endpoint

import (
	"fmt"

	"github.com/loadstar/loadstar/engine/plugin"
)

// Builtin describes one built-in endpoint plugin: its registered name, the
// Go class key (class `go:engine/endpoint.<Class>`), its manifest
// description and metadata.
type Builtin struct {
	Name        string
	Class       string
	Description string
	Metadata    plugin.EndpointMetadata
	params      []plugin.Param
	build       func(*Settings, plugin.Args) (any, error)
}

// Builtins lists the built-in endpoints in manifest order. The metadata here
// is what engine/plugin/plugins.yaml must carry (a test checks it).
func Builtins() []Builtin {
	llm := func(path string) plugin.EndpointMetadata {
		return plugin.EndpointMetadata{EndpointPath: path, ServiceKind: "openai", SupportsStreaming: true,
			ProducesTokens: true, TokenizesInput: true, MetricsTitle: "LLM Metrics"}
	}
	nonStreaming := func(path, title string) plugin.EndpointMetadata {
		return plugin.EndpointMetadata{EndpointPath: path, ServiceKind: "openai", TokenizesInput: true, MetricsTitle: title}
	}
	chat := llm("/v1/chat/completions")
	chat.SupportsImages, chat.SupportsAudio, chat.SupportsVideos = true, true, true
	responses := llm("/v1/responses")
	responses.SupportsImages, responses.SupportsAudio = true, true
	messages := llm("/v1/messages")
	messages.SupportsImages = true
	tgi := llm("/generate")
	tgi.StreamingPath = "/generate_stream"
	template := llm("")
	template.SupportsImages, template.SupportsAudio, template.SupportsVideos = true, true, true
	nimEmb := nonStreaming("/v1/embeddings", "NIM Embeddings Metrics")
	nimEmb.SupportsImages = true
	images := nonStreaming("/v1/images/generations", "Image Generation Metrics")
	images.SupportsStreaming, images.ProducesImages = true, true
	imageEdit := nonStreaming("/v1/images/edits", "Image Edit Metrics")
	imageEdit.SupportsImages, imageEdit.ProducesImages, imageEdit.RequiresFormData = true, true, true
	raw := llm("")
	raw.SupportsImages, raw.SupportsAudio, raw.SupportsVideos = true, true, true
	solido := llm("/rag/api/prompt")
	solido.MetricsTitle = "SOLIDO RAG Metrics"

	return []Builtin{
		{Name: "chat", Class: "Chat", Metadata: chat, params: chatParams, build: newChat,
			Description: "OpenAI Chat Completions (/v1/chat/completions): text, image, audio and video inputs, system prompt, multi-turn history and tools; streaming with reasoning, tool-call and usage parsing."},
		{Name: "completions", Class: "Completions", Metadata: llm("/v1/completions"), build: newCompletions,
			Description: "OpenAI Completions (/v1/completions): one text prompt, streaming or not."},
		{Name: "embeddings", Class: "Embeddings", Metadata: nonStreaming("/v1/embeddings", "Embeddings Metrics"), build: newEmbeddings(false),
			Description: "OpenAI Embeddings (/v1/embeddings): a list of input texts per request."},
		{Name: "image_generation", Class: "ImageGeneration", Metadata: images, build: newImageGeneration,
			Description: "OpenAI Image Generation (/v1/images/generations): a text prompt, b64_json images, streamed partial images."},
		{Name: "huggingface_generate", Class: "HuggingFaceGenerate", Metadata: tgi, build: newHuggingFaceGenerate,
			Description: "Hugging Face TGI native API: /generate, or /generate_stream token streams when streaming."},
		{Name: "cohere_rankings", Class: "CohereRankings", Metadata: nonStreaming("/v2/rerank", "Ranking Metrics"), build: newRankings(vendorCohere),
			Description: "Cohere Rerank (/v2/rerank): a query and documents."},
		{Name: "hf_tei_rankings", Class: "HFTeiRankings", Metadata: nonStreaming("/rerank", "Ranking Metrics"), build: newRankings(vendorTEI),
			Description: "Hugging Face TEI rerank (/rerank): a query and texts, no model."},
		{Name: "nim_embeddings", Class: "NIMEmbeddings", Metadata: nimEmb, build: newEmbeddings(true),
			Description: "NVIDIA NIM Embeddings (/v1/embeddings): texts and/or inline images."},
		{Name: "nim_rankings", Class: "NIMRankings", Metadata: nonStreaming("/v1/ranking", "Rankings Metrics"), build: newRankings(vendorNIM),
			Description: "NVIDIA NIM Rankings (/v1/ranking): a query and passages."},
		{Name: "solido_rag", Class: "SolidoRAG", Metadata: solido, build: newSolidoRAG,
			Description: "Solido RAG pipeline (/rag/api/prompt)."},
		{Name: "template", Class: "Template", Metadata: template, params: templateParams, build: newTemplate,
			Description: "Any JSON API: the body from a template (a function or a JSON template with {{placeholders}}), the answer read with a JMESPath response_field or auto-detected. No path is appended to the URL."},
		{Name: "raw", Class: "Raw", Metadata: raw, params: rawParams, build: newRaw,
			Description: "Recorded request bodies sent as they are (raw_payload, inputs_json) to the URL as given; the answer read with a JMESPath response_field or auto-detected (AIPerf's raw)."},
		{Name: "image_edit", Class: "ImageEdit", Metadata: imageEdit, build: newImageEdit,
			Description: "OpenAI Image Edit (/v1/images/edits; SGLang, FLUX.2): the turn's image and prompt uploaded as multipart/form-data, b64_json images back."},
		{Name: "responses", Class: "Responses", Metadata: responses, build: newResponses,
			Description: "OpenAI Responses API (/v1/responses): input items, instructions, streamed text/reasoning/function-call events."},
		{Name: "messages", Class: "Messages", Metadata: messages, params: messagesParams, build: newMessages,
			Description: "Anthropic Messages API (/v1/messages): x-api-key auth, system prompt, text and images, streamed text/thinking/tool deltas."},
	}
}

// Params returns the parameters of the built-in endpoint b: the common ones
// then its own.
func (b Builtin) Params() []plugin.Param {
	return append(CommonParams(), b.params...)
}

// ClassOf returns the plugin class of b.
func (b Builtin) ClassOf() *plugin.Class {
	return &plugin.Class{
		Params: b.Params(),
		New: func(args plugin.Args) (any, error) {
			s, err := NewSettings(b.Name, b.Metadata, args)
			if err != nil {
				return nil, fmt.Errorf("endpoint.%s: %w", b.Name, err)
			}
			ep, err := b.build(s, args)
			if err != nil {
				return nil, fmt.Errorf("endpoint.%s: %w", b.Name, err)
			}
			return ep, nil
		},
	}
}

// Classes returns the plugin classes of the built-in endpoints keyed by
// their Go class name ("Chat" is class `go:engine/endpoint.Chat`).
func Classes() map[string]*plugin.Class {
	out := make(map[string]*plugin.Class)
	for _, b := range Builtins() {
		out[b.Class] = b.ClassOf()
	}
	return out
}
