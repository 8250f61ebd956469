package tokenizer_test

import (
	"fmt"

	"github.com/loadstar/loadstar/engine/tokenizer"
)

func ExampleBuiltin() {
	tok, err := tokenizer.Builtin("o200k_base")
	if err != nil {
		panic(err)
	}
	ids := tok.Encode("Hello, world")
	fmt.Println(ids, tok.Count("Hello, world"), tok.Decode(ids))
	// Output: [13225 11 2375] 3 Hello, world
}
