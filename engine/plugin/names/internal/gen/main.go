// Command gen writes engine/plugin/names/names_gen.go; run it with
// `go generate ./engine/plugin/names`.
package main

import (
	"fmt"
	"os"

	"github.com/loadstar/loadstar/engine/plugin/names/internal/namegen"
)

func main() {
	src, err := namegen.Source()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := os.WriteFile(namegen.File, src, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
