package plugin

import (
	"sync"
	"sync/atomic"
)

// The process-wide registry: the one piece of global mutable state loadstar
// allows. Prefer passing a *Registry explicitly; Default serves code that
// has no registry handed to it (and tests via plugintest.Mock).
var (
	defaultReg  atomic.Pointer[Registry]
	defaultOnce sync.Mutex
)

// Default returns the process-wide registry. Until SetDefault installs one
// (cmd/loadstar installs engine/catalog's), it is a registry of the embedded
// manifests with no Go classes bound, so Get of a built-in fails with a
// ClassNotFoundError naming engine/catalog.
func Default() *Registry {
	if r := defaultReg.Load(); r != nil {
		return r
	}
	defaultOnce.Lock()
	defer defaultOnce.Unlock()
	if r := defaultReg.Load(); r != nil {
		return r
	}
	r, _ := NewRegistry() // the embedded manifests are checked by tests
	if r == nil {
		r = emptyRegistry()
	}
	defaultReg.Store(r)
	return r
}

// SetDefault installs r as the process-wide registry and returns the
// previous one (nil if none was installed).
func SetDefault(r *Registry) (previous *Registry) { return defaultReg.Swap(r) }

func emptyRegistry() *Registry {
	cats, _ := BuiltinCategories()
	if cats == nil {
		cats = &Categories{byName: map[Category]*CategoryInfo{}}
	}
	r := &Registry{cats: cats, resolver: &resolver{goClasses: map[string]*Class{}}}
	r.st = state{entries: map[Category][]*Entry{}, winners: map[Category]map[string]*Entry{}, order: map[Category][]string{}}
	r.initial = r.st.clone()
	return r
}
