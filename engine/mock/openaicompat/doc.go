// Package openaicompat holds only a test: the official OpenAI Go client
// (github.com/openai/openai-go, a test-only dependency that compiles slowly)
// consumes the mock server's chat, completions, embeddings and Responses
// answers, proving the mock faithful to the real API. It lives in its own
// package so that other packages' tests do not pay for compiling the client.
package openaicompat
