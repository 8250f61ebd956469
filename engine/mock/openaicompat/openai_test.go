package openaicompat_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/responses"

	"github.com/loadstar/loadstar/engine/mock"
	"github.com/loadstar/loadstar/engine/tokenizer"
)

func setup(t *testing.T, cfg mock.Config) (*mock.Server, openai.Client, context.Context) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	srv, err := mock.Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	client := openai.NewClient(
		option.WithBaseURL(srv.URL()+"/v1/"),
		option.WithAPIKey("sk-test"),
		option.WithMaxRetries(0),
	)
	return srv, client, ctx
}

func countTokens(t *testing.T, text string) int {
	t.Helper()
	tok, err := tokenizer.Builtin("o200k_base")
	if err != nil {
		t.Fatal(err)
	}
	return tok.Count(text)
}

func TestChatStreamWithUsage(t *testing.T) {
	_, client, ctx := setup(t, mock.Config{TTFT: 5 * time.Millisecond, ITL: time.Millisecond})
	stream := client.Chat.Completions.NewStreaming(ctx, openai.ChatCompletionNewParams{
		Model:               "gpt-4o-mini",
		Messages:            []openai.ChatCompletionMessageParamUnion{openai.SystemMessage("Be brief."), openai.UserMessage("Tell me about Go.")},
		MaxCompletionTokens: openai.Int(24),
		StreamOptions:       openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)},
	})
	var acc openai.ChatCompletionAccumulator
	chunks, contentChunks := 0, 0
	for stream.Next() {
		chunk := stream.Current()
		if !acc.AddChunk(chunk) {
			t.Fatalf("accumulator rejected chunk %d: %s", chunks, chunk.RawJSON())
		}
		chunks++
		if len(chunk.Choices) > 0 && chunk.Choices[0].Delta.Content != "" {
			contentChunks++
		}
	}
	if err := stream.Err(); err != nil {
		t.Fatalf("stream: %v", err)
	}
	if contentChunks != 24 || chunks != 25 {
		t.Fatalf("%d chunks, %d with content; want 24 content chunks and the usage chunk", chunks, contentChunks)
	}
	msg := acc.Choices[0].Message
	if msg.Role != "assistant" || acc.Choices[0].FinishReason != "length" || acc.Model != "gpt-4o-mini" || !strings.HasPrefix(acc.ID, "chatcmpl-") {
		t.Fatalf("accumulated %+v", acc.ChatCompletion)
	}
	if acc.Usage.CompletionTokens != 24 || acc.Usage.TotalTokens != acc.Usage.PromptTokens+24 || acc.Usage.PromptTokens == 0 {
		t.Fatalf("usage %+v", acc.Usage)
	}
	// The client's own count of the text equals the server's completion_tokens.
	if n := countTokens(t, msg.Content); n != 24 {
		t.Fatalf("o200k_base counts %d tokens in %q, the server reported 24", n, msg.Content)
	}
}

func TestChatStreamReasoning(t *testing.T) {
	_, client, ctx := setup(t, mock.Config{Fast: true})
	stream := client.Chat.Completions.NewStreaming(ctx, openai.ChatCompletionNewParams{
		Model:               "deepseek-r1",
		Messages:            []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Why is the sky blue?")},
		MaxCompletionTokens: openai.Int(20),
		StreamOptions:       openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)},
	})
	var reasoning, content strings.Builder
	var usage openai.CompletionUsage
	for stream.Next() {
		c := stream.Current()
		if len(c.Choices) > 0 {
			if f, ok := c.Choices[0].Delta.JSON.ExtraFields["reasoning_content"]; ok {
				reasoning.WriteString(strings.Trim(f.Raw(), `"`))
			}
			content.WriteString(c.Choices[0].Delta.Content)
		}
		if c.Usage.TotalTokens > 0 {
			usage = c.Usage
		}
	}
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
	if countTokens(t, reasoning.String()) != 10 || countTokens(t, content.String()) != 10 ||
		usage.CompletionTokensDetails.ReasoningTokens != 10 || usage.CompletionTokens != 20 {
		t.Fatalf("reasoning %q content %q usage %+v", reasoning.String(), content.String(), usage)
	}
}

func TestChatNonStreaming(t *testing.T) {
	_, client, ctx := setup(t, mock.Config{Fast: true})
	res, err := client.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{
		Model:     "m",
		Messages:  []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Hello")},
		MaxTokens: openai.Int(9),
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Object != "chat.completion" || res.Choices[0].FinishReason != "length" || res.Usage.CompletionTokens != 9 ||
		res.Usage.PromptTokensDetails.CachedTokens != 0 || countTokens(t, res.Choices[0].Message.Content) != 9 {
		t.Fatalf("%+v", res)
	}
}

func TestCompletions(t *testing.T) {
	_, client, ctx := setup(t, mock.Config{Fast: true})
	res, err := client.Completions.New(ctx, openai.CompletionNewParams{
		Model:     "gpt-3.5-turbo-instruct",
		Prompt:    openai.CompletionNewParamsPromptUnion{OfString: openai.String("Once upon a time")},
		MaxTokens: openai.Int(7),
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Object != "text_completion" || res.Usage.CompletionTokens != 7 || countTokens(t, res.Choices[0].Text) != 7 {
		t.Fatalf("%+v", res)
	}
	stream := client.Completions.NewStreaming(ctx, openai.CompletionNewParams{
		Model:         "m",
		Prompt:        openai.CompletionNewParamsPromptUnion{OfArrayOfStrings: []string{"Once upon a time"}},
		MaxTokens:     openai.Int(5),
		StreamOptions: openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)},
	})
	var text strings.Builder
	var usage int64
	for stream.Next() {
		c := stream.Current()
		if len(c.Choices) > 0 {
			text.WriteString(c.Choices[0].Text)
		}
		usage = max(usage, c.Usage.CompletionTokens)
	}
	if err := stream.Err(); err != nil || usage != 5 || countTokens(t, text.String()) != 5 {
		t.Fatalf("stream err %v, usage %d, text %q", err, usage, text.String())
	}
}

func TestEmbeddings(t *testing.T) {
	_, client, ctx := setup(t, mock.Config{Fast: true})
	for _, format := range []openai.EmbeddingNewParamsEncodingFormat{openai.EmbeddingNewParamsEncodingFormatFloat, openai.EmbeddingNewParamsEncodingFormatBase64} {
		res, err := client.Embeddings.New(ctx, openai.EmbeddingNewParams{
			Model:          "text-embedding-3-small",
			Input:          openai.EmbeddingNewParamsInputUnion{OfArrayOfStrings: []string{"first", "second"}},
			EncodingFormat: format,
		})
		if err != nil {
			t.Fatalf("%s: %v", format, err)
		}
		if len(res.Data) != 2 || res.Data[1].Index != 1 || res.Usage.PromptTokens == 0 {
			t.Fatalf("%s: %+v", format, res)
		}
		if format == openai.EmbeddingNewParamsEncodingFormatFloat && len(res.Data[0].Embedding) != 768 {
			t.Fatalf("dimension %d", len(res.Data[0].Embedding))
		}
	}
}

func TestResponsesStream(t *testing.T) {
	_, client, ctx := setup(t, mock.Config{Fast: true})
	stream := client.Responses.NewStreaming(ctx, responses.ResponseNewParams{
		Model:           "gpt-oss-120b",
		Input:           responses.ResponseNewParamsInputUnion{OfString: openai.String("Explain queues.")},
		MaxOutputTokens: openai.Int(12),
	})
	var deltas strings.Builder
	var done responses.Response
	for stream.Next() {
		ev := stream.Current()
		switch ev.Type {
		case "response.output_text.delta":
			deltas.WriteString(ev.Delta)
		case "response.completed":
			done = ev.AsResponseCompleted().Response
		}
	}
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
	if done.OutputText() != deltas.String() || done.Usage.OutputTokens != 12 || done.Usage.OutputTokensDetails.ReasoningTokens != 6 ||
		countTokens(t, deltas.String()) != 6 {
		t.Fatalf("deltas %q, completed %q, usage %+v", deltas.String(), done.OutputText(), done.Usage)
	}
	res, err := client.Responses.New(ctx, responses.ResponseNewParams{
		Model: "m", Input: responses.ResponseNewParamsInputUnion{OfString: openai.String("hi")}, MaxOutputTokens: openai.Int(4),
	})
	if err != nil || countTokens(t, res.OutputText()) != 4 || res.Status != "completed" {
		t.Fatalf("non-streaming: %v %+v", err, res)
	}
}

func TestErrorsAndRetryAfter(t *testing.T) {
	srv, client, ctx := setup(t, mock.Config{Fast: true, Faults: mock.FaultRates{RateLimit: 1}, RetryAfter: 20 * time.Millisecond})
	_, err := client.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{
		Model: "m", Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("x")},
	}, option.WithMaxRetries(2))
	var apiErr *openai.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 429 {
		t.Fatalf("want a 429 API error, got %v", err)
	}
	// The client honoured Retry-After-Ms and retried twice.
	if n := srv.Stats().Requests["/v1/chat/completions"]; n != 3 {
		t.Fatalf("%d requests, want 1 + 2 retries", n)
	}
}
