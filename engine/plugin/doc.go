// Package plugin is loadstar's plugin system, after AIPerf's: every
// component of a benchmark (endpoint, transport, timing strategy, arrival
// pattern, dataset composer, loader, sampler, exporter, UI, ...) is a plugin
// of a category declared in categories.yaml, listed in a plugins.yaml
// manifest with a class path, a priority and typed metadata.
//
// A Registry holds the plugins of the built-in manifest and of external
// packages (folders with their own plugins.yaml), resolves each class on
// first use — a Go class bound with WithGoClasses, or a Starlark file
// loaded through a ScriptLoader —, checks a Spec's arguments against the
// class's Params (filling in their defaults) and builds the component:
//
//	reg, err := catalog.New(plugin.WithPackages(dirs...)) // engine/catalog binds the Go classes
//	v, err := reg.Build(&plugin.Spec{Category: plugin.Endpoint, Name: "chat", Args: plugin.Args{"model": "m"}})
//
// There is no process-wide registry: the command builds one and passes it
// to what builds plugins. Validate checks every manifest, class path and
// Starlark file without running plugin code (loadstar plugins --validate).
// docs/plugins.md describes the manifests, categories and priorities.
package plugin
