package catalog_test

import (
	"time"

	"github.com/loadstar/loadstar/engine/ordered"
	"github.com/loadstar/loadstar/engine/plugin"
)

// sample returns a plausible value for a required parameter.
func sample(p plugin.Param) any {
	switch p.Type {
	case plugin.TString:
		if len(p.Choices) > 0 {
			return p.Choices[0]
		}
		return "x"
	case plugin.TInt:
		return int64(1)
	case plugin.TFloat:
		return 1.0
	case plugin.TBool:
		return true
	case plugin.TDuration:
		return time.Second
	case plugin.TStrings:
		return []string{"x"}
	case plugin.TList:
		return []any{}
	case plugin.TDict:
		return ordered.New(0)
	}
	return nil
}
