// Package catalog binds every `go:` class name of the built-in plugins.yaml
// to its Go implementation and builds registries with the Starlark loader.
//
// A package providing plugins exports
//
//	func Classes() map[string]*plugin.Class
//
// keyed by the Go name used in the manifest: key "Chat" of package
// engine/endpoint is class `go:engine/endpoint.Chat`. Add the package to
// sources below when it exports Classes().
package catalog

import (
	"fmt"

	"github.com/loadstar/loadstar/engine/dataset"
	"github.com/loadstar/loadstar/engine/endpoint"
	"github.com/loadstar/loadstar/engine/plugin"
	"github.com/loadstar/loadstar/engine/timing"
	"github.com/loadstar/loadstar/internal/console"
	"github.com/loadstar/loadstar/internal/export"
	"github.com/loadstar/loadstar/internal/metrics"
	"github.com/loadstar/loadstar/internal/starplugin"
	"github.com/loadstar/loadstar/internal/transport"
	"github.com/loadstar/loadstar/internal/ui"
)

// source is one Go package contributing classes.
type source struct {
	path    string // package path under the module, e.g. engine/endpoint
	classes func() map[string]*plugin.Class
}

// sources lists the packages whose classes are bound, in manifest order.
var sources = []source{
	{"engine/endpoint", endpoint.Classes},
	{"internal/transport", transport.Classes},
	{"engine/timing", timing.Classes},
	{"engine/dataset", dataset.Classes},
	{"internal/metrics", metrics.Classes},
	{"internal/export", export.Classes},
	{"internal/console", console.Classes},
	{"internal/ui", ui.Classes},
}

// Classes returns every bound Go class keyed by its full class path
// ("go:engine/endpoint.Chat").
func Classes() map[string]*plugin.Class {
	out := map[string]*plugin.Class{}
	for _, s := range sources {
		for name, c := range s.classes() {
			out[fmt.Sprintf("go:%s.%s", s.path, name)] = c
		}
	}
	return out
}

// New builds a registry of the built-in plugins with every Go class bound
// and Starlark plugins enabled; opts add packages, a logger, ...
//
//	dirs, _ := plugin.Discover(flags, os.Getenv(plugin.EnvPlugins), ".")
//	reg, err := catalog.New(plugin.WithPackages(dirs...), plugin.WithLogger(log))
func New(opts ...plugin.Option) (*plugin.Registry, error) {
	base := []plugin.Option{plugin.WithGoClasses(Classes()), plugin.WithScripts(starplugin.NewLoader())}
	return plugin.NewRegistry(append(base, opts...)...)
}
