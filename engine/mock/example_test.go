package mock_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/loadstar/loadstar/engine/mock"
)

// Start a mock server on a free port, ask it for a 5-token chat answer and
// read the usage it reports.
func ExampleStart() {
	srv, err := mock.Start(context.Background(), mock.Config{TTFT: 10 * time.Millisecond, ITL: time.Millisecond})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()

	resp, err := http.Post(srv.URL()+"/v1/chat/completions", "application/json",
		strings.NewReader(`{"model":"llama","messages":[{"role":"user","content":"Hello!"}],"max_tokens":5}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	var answer struct {
		Choices []struct {
			FinishReason string `json:"finish_reason"`
		} `json:"choices"`
		Usage struct {
			PromptTokens     int `json:"prompt_tokens"`
			CompletionTokens int `json:"completion_tokens"`
		} `json:"usage"`
	}
	json.NewDecoder(resp.Body).Decode(&answer)
	fmt.Println(resp.StatusCode, answer.Choices[0].FinishReason, answer.Usage.PromptTokens, answer.Usage.CompletionTokens)
	fmt.Println(srv.Stats().Requests["/v1/chat/completions"])
	// Output:
	// 200 length 2 5
	// 1
}

// Inject faults: here every request gets HTTP 429 with Retry-After.
func ExampleWithFaults() {
	srv, err := mock.Start(context.Background(), mock.Config{},
		mock.WithFaults(mock.FaultRates{RateLimit: 1}), mock.WithSeed(42))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()
	resp, err := http.Post(srv.URL()+"/v1/completions", "application/json", strings.NewReader(`{"model":"m","prompt":"hi"}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	resp.Body.Close()
	fmt.Println(resp.StatusCode, resp.Header.Get("Retry-After"), srv.Stats().Faults[mock.FaultRateLimit])
	// Output: 429 1 1
}
