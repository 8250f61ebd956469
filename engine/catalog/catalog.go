// Package catalog binds the `go:` class names of the built-in plugins.yaml
// that the engine builds — endpoints, transports, timing, datasets,
// metrics processors — to their Go implementations, and builds registries
// with the Starlark loader: everything runner.Plan and runner.Run need.
//
// The output plugins (data_exporter, console_exporter, ui) are the
// caller's, as rendering is: internal/outputs binds them, and its
// NewRegistry is this registry with them, the one the loadstar binary uses.
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
	"github.com/loadstar/loadstar/internal/metrics"
	"github.com/loadstar/loadstar/internal/starplugin"
	"github.com/loadstar/loadstar/internal/transport"
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

// New builds a registry of the built-in plugins with the engine's Go
// classes bound and Starlark plugins enabled; opts add packages, a logger,
// more classes (plugin.WithGoClasses), ...
//
//	dirs, _ := plugin.Discover(flags, os.Getenv(plugin.EnvPlugins), ".")
//	reg, err := catalog.New(plugin.WithPackages(dirs...), plugin.WithLogger(log))
func New(opts ...plugin.Option) (*plugin.Registry, error) {
	base := []plugin.Option{plugin.WithGoClasses(Classes()), plugin.WithScripts(starplugin.NewLoader())}
	return plugin.NewRegistry(append(base, opts...)...)
}
