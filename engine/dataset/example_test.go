package dataset_test

import (
	"context"
	"fmt"

	"github.com/loadstar/loadstar/engine/dataset"
	"github.com/loadstar/loadstar/engine/dist"
	"github.com/loadstar/loadstar/engine/tokenizer"
)

func ExampleSynthetic() {
	tok, _ := tokenizer.Builtin("o200k_base")
	s := &dataset.Synthetic{ISL: dist.Normal{Mu: 550, Sigma: 50}, OSL: dist.Fixed{V: 128}, Entries: 10}
	ds, err := s.Compose(context.Background(), &dataset.Env{Tokenizer: tok, Seed: 42})
	if err != nil {
		panic(err)
	}
	turn := ds.Conversation(0).Turns[0]
	fmt.Println(ds.Len(), tok.Count(turn.FirstText()) == turn.InputTokens, turn.MaxTokens, dataset.InfoOf(ds).Sampler)
	// Output: 10 true 128 shuffle
}

func ExampleNewSampler() {
	smp, _ := dataset.NewSampler(dataset.Sequential, 3, 0)
	fmt.Println(smp.Next(), smp.Next(), smp.Next(), smp.Next())
	// Output: 0 1 2 0
}
