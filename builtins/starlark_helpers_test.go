package builtins

import (
	"fmt"

	"go.starlark.net/syntax"
)

var testFileOptions = &syntax.FileOptions{Set: true, TopLevelControl: true}

func errNoLoad(m string) error {
	return fmt.Errorf("only assert.star can be loaded in builtin tests, not %s", m)
}
