// Package names holds typed constants for the built-in plugin names, one
// string type per category (the categories.yaml enum), generated from the
// embedded manifests (as AIPerf generates its plugin-type enums from its
// registry):
//
//	spec := &plugin.Spec{Category: names.EndpointTypeChat.Category(), Name: names.EndpointTypeChat.String()}
//
// After changing engine/plugin/plugins.yaml run `go generate ./engine/plugin/names`;
// a test fails while this package is stale.
package names

//go:generate go run ./internal/gen
