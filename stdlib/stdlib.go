// Package stdlib embeds loadstar's standard Starlark library, loaded in
// scenarios as load("@stdlib//name.star", ...).
package stdlib

import "embed"

// FS holds the library modules.
//
//go:embed *.star
var FS embed.FS
