// Package plugintest replaces plugins for the duration of a test.
//
//	func TestRunnerUsesEndpoint(t *testing.T) {
//		reg, _ := catalog.New()
//		plugintest.Mock(t, reg, plugin.Endpoint, "chat", &fakeEndpoint{})
//		// reg.Get(plugin.Endpoint, "chat") now builds the fake; the
//		// registry is restored when the test ends.
//	}
package plugintest

import (
	"math"
	"testing"

	"github.com/loadstar/loadstar/engine/plugin"
)

// Mock makes name in category resolve to impl in r until the test ends.
// impl is a *plugin.Class, or any value, which then is what every Build
// returns (its Class accepts any arguments the replaced plugin accepted).
func Mock(t testing.TB, r *plugin.Registry, category plugin.Category, name string, impl any) {
	t.Helper()
	var params []plugin.Param
	var md map[string]any
	if prev, err := r.Lookup(category, name); err == nil {
		if c, err := prev.Resolve(); err == nil {
			params = c.Params
		}
		if prev.Metadata != nil {
			md = map[string]any{}
			for _, k := range prev.Metadata.Keys() {
				md[k], _ = prev.Metadata.Get(k)
			}
		}
	}
	class, ok := impl.(*plugin.Class)
	if !ok {
		class = &plugin.Class{Params: params, New: func(plugin.Args) (any, error) { return impl, nil }}
	}
	restore := r.Snapshot()
	t.Cleanup(restore)
	opts := []plugin.RegisterOption{plugin.Priority(math.MaxInt), plugin.Describe("mock (plugintest)")}
	if md != nil {
		opts = append(opts, plugin.WithMetadata(md))
	}
	if err := r.Register(category, name, class, opts...); err != nil {
		t.Fatalf("plugintest.Mock(%s, %s): %v", category, name, err)
	}
}
