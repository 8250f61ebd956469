package starplugin

import (
	"fmt"
	"log/slog"
	"sort"
	"strings"

	"go.starlark.net/starlark"

	"github.com/loadstar/loadstar/engine/plugin"
)

// method is one function a Starlark implementation provides.
type method struct {
	name     string
	arity    int
	args     string // parameter names for messages, e.g. "request"
	optional bool
}

func (m *method) signature() string { return m.name + "(" + m.args + ")" }

// protocol is how a category is implemented in Starlark.
type protocol struct {
	methods []method
	// common returns the parameters every plugin of the category accepts
	// (the endpoint's url, model, ...), nil if none.
	common func() []plugin.Param
	// adapt wraps the constructed Starlark value into the Go protocol.
	adapt func(in *adaptInput) (any, error)
}

func (p *protocol) method(name string) *method {
	for i := range p.methods {
		if p.methods[i].name == name {
			return &p.methods[i]
		}
	}
	return nil
}

// fields lists the struct fields the constructor returns.
func (p *protocol) fields() string {
	parts := make([]string, len(p.methods))
	for i, m := range p.methods {
		parts[i] = m.name + " = ..."
	}
	return strings.Join(parts, ", ")
}

// adaptInput is what an adapter gets: the entry, the validated arguments,
// the constructed value and a thread pool for calls.
type adaptInput struct {
	entry   *plugin.Entry
	label   string
	args    plugin.Args // complete (plugin.Class.Build)
	given   plugin.Args // args without the values equal to their defaults, for printing
	impl    *impl
	methods map[string]starlark.Callable // the protocol functions (nil when optional and absent)
	threads *threadPool
	log     *slog.Logger
}

// protocols lists the categories with a Starlark protocol.
var protocols = map[plugin.Category]*protocol{
	plugin.Endpoint:            endpointProtocol,
	plugin.ArrivalPattern:      arrivalProtocol,
	plugin.CustomDatasetLoader: loaderProtocol,
}

// categories returns the categories that accept Starlark plugins, sorted.
func categories() []plugin.Category {
	out := make([]plugin.Category, 0, len(protocols))
	for c := range protocols {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

func protocolOf(c plugin.Category) (*protocol, error) {
	if p := protocols[c]; p != nil {
		return p, nil
	}
	names := make([]string, 0, len(protocols))
	for _, cat := range categories() {
		names = append(names, string(cat))
	}
	return nil, fmt.Errorf("category %s has no Starlark protocol (Starlark plugins can be: %s); write it in Go", c, strings.Join(names, ", "))
}
