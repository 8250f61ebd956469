package plugin_test

import (
	"bytes"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/loadstar/loadstar/engine/errext"
	"github.com/loadstar/loadstar/engine/ordered"
	"github.com/loadstar/loadstar/engine/plugin"
)

// fakeEndpoint is what the test classes build.
type fakeEndpoint struct{ who string }

func class(who string) *plugin.Class {
	return &plugin.Class{
		Params: []plugin.Param{{Name: "url", Type: plugin.TString, Required: true, Doc: "server URL"}, {Name: "streaming", Type: plugin.TBool}},
		New:    func(plugin.Args) (any, error) { return &fakeEndpoint{who}, nil },
	}
}

const endpointMD = `{endpoint_path: /v1/chat/completions, supports_streaming: true, produces_tokens: true, tokenizes_input: true, metrics_title: LLM Metrics}`

const builtinManifest = `schema_version: "1.0"
endpoint:
  chat:
    class: go:engine/endpoint.Chat
    description: OpenAI chat.
    metadata: ` + endpointMD + `
  completions:
    class: go:engine/endpoint.Completions
    description: OpenAI completions.
    metadata: ` + endpointMD + `
timing_strategy:
  request-rate:
    class: go:engine/timing.RequestRate
    description: Rate.
`

var (
	builtinChat = class("builtin chat")
	goClasses   = map[string]*plugin.Class{
		"go:engine/endpoint.Chat":        builtinChat,
		"go:engine/endpoint.Completions": class("builtin completions"),
		"go:engine/timing.RequestRate":   {New: func(plugin.Args) (any, error) { return "rate", nil }},
		"go:engine/ext.Chat":             class("external chat"),
		"go:engine/ext2.Chat":            class("second external chat"),
	}
)

// writePackage makes a plugin package folder holding manifest.
func writePackage(t *testing.T, dir, manifest string) string {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "plugins.yaml"), []byte(manifest), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func extManifest(pkg, class string, priority int) string {
	return `schema_version: "1.0"
package: {name: ` + pkg + `, version: 1.2.0, description: Test package.}
endpoint:
  chat:
    class: ` + class + `
    description: ` + pkg + ` chat.
    priority: ` + strconv.Itoa(priority) + `
    metadata: ` + endpointMD + `
`
}

func newRegistry(t *testing.T, dirs []string, opts ...plugin.Option) *plugin.Registry {
	t.Helper()
	var pd []plugin.PackageDir
	for _, d := range dirs {
		pd = append(pd, plugin.PackageDir{Dir: d, Source: "--plugins"})
	}
	base := []plugin.Option{plugin.WithBuiltinManifest([]byte(builtinManifest)), plugin.WithGoClasses(goClasses), plugin.WithPackages(pd...)}
	r, err := plugin.NewRegistry(append(base, opts...)...)
	if err != nil {
		t.Fatalf("NewRegistry: %v", err)
	}
	return r
}

func build(t *testing.T, r *plugin.Registry, cat plugin.Category, name string) string {
	t.Helper()
	c, err := r.Get(cat, name)
	if err != nil {
		t.Fatalf("Get(%s, %s): %v", cat, name, err)
	}
	v, err := c.Build(name, plugin.Args{"url": "http://127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	return v.(*fakeEndpoint).who
}

func TestEmbeddedManifestsLoad(t *testing.T) {
	r, err := plugin.NewRegistry()
	if err != nil {
		t.Fatalf("embedded manifests: %v", err)
	}
	if got := len(r.Categories()); got != 17 {
		t.Errorf("categories = %d, want 17", got)
	}
	for _, c := range r.Categories() {
		if c.Namespace != plugin.Namespace(c.Name) {
			t.Errorf("%s: namespace %q != plugin.Namespace %q", c.Name, c.Namespace, plugin.Namespace(c.Name))
		}
	}
	p := r.Packages()[0]
	if p.Name != "loadstar" || !p.Builtin || p.Source != "built-in" {
		t.Errorf("built-in package = %+v", p)
	}
}

func TestPriorityHigherWins(t *testing.T) {
	dir := t.TempDir()
	high := writePackage(t, filepath.Join(dir, "high"), extManifest("high", "go:engine/ext.Chat", 10))
	low := writePackage(t, filepath.Join(dir, "low"), extManifest("low", "go:engine/ext2.Chat", -1))
	var logs bytes.Buffer
	r := newRegistry(t, []string{high, low}, plugin.WithLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	if got := build(t, r, plugin.Endpoint, "chat"); got != "external chat" {
		t.Errorf("chat built %q, want the priority-10 external chat", got)
	}
	e, _ := r.Lookup(plugin.Endpoint, "chat")
	if e.Package.Name != "high" || e.Priority != 10 {
		t.Errorf("active entry = %s from %s", e.Class, e.Package.Name)
	}
	// A lower priority loses even against the built-in (rule 1 before rule 2).
	cands := r.Candidates(plugin.Endpoint, "chat")
	if len(cands) != 3 || cands[0].Package.Name != "high" || cands[1].Package.Name != "loadstar" || cands[2].Package.Name != "low" {
		t.Errorf("candidates = %v", refs(cands))
	}
	if !strings.Contains(logs.String(), "the built-in one is replaced by package high") || !strings.Contains(logs.String(), "level=WARN") {
		t.Errorf("no override log: %s", logs.String())
	}
	if len(r.Warnings()) != 0 {
		t.Errorf("unexpected warnings %v", r.Warnings())
	}
}

func TestPriorityExternalBeatsBuiltinAtEqualPriority(t *testing.T) {
	ext := writePackage(t, t.TempDir(), extManifest("ext", "go:engine/ext.Chat", 0))
	r := newRegistry(t, []string{ext})
	if got := build(t, r, plugin.Endpoint, "chat"); got != "external chat" {
		t.Errorf("chat built %q, want the external one", got)
	}
	if len(r.Warnings()) != 0 {
		t.Errorf("external over built-in must not warn: %v", r.Warnings())
	}
}

func TestPriorityFirstRegisteredWinsWithWarning(t *testing.T) {
	dir := t.TempDir()
	a := writePackage(t, filepath.Join(dir, "a"), extManifest("first-pkg", "go:engine/ext.Chat", 5))
	b := writePackage(t, filepath.Join(dir, "b"), extManifest("second-pkg", "go:engine/ext2.Chat", 5))
	var logs bytes.Buffer
	r := newRegistry(t, []string{a, b}, plugin.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	if got := build(t, r, plugin.Endpoint, "chat"); got != "external chat" {
		t.Errorf("chat built %q, want the first registered", got)
	}
	w := r.Warnings()
	if len(w) != 1 || !strings.Contains(w[0], "go:engine/ext.Chat (package first-pkg") || !strings.Contains(w[0], "go:engine/ext2.Chat (package second-pkg") {
		t.Fatalf("warning must name both plugins, got %q", w)
	}
	if !strings.Contains(logs.String(), "level=WARN") {
		t.Errorf("warning not logged: %s", logs.String())
	}
	// Equal priority between two built-ins: the same rule.
	r2, err := plugin.NewRegistry(plugin.WithGoClasses(goClasses), plugin.WithBuiltinManifest([]byte(builtinManifest)))
	if err != nil {
		t.Fatal(err)
	}
	if err := r2.Register(plugin.Endpoint, "x", class("one")); err != nil {
		t.Fatal(err)
	}
	if err := r2.Register(plugin.Endpoint, "x", class("two")); err != nil {
		t.Fatal(err)
	}
	if got := build(t, r2, plugin.Endpoint, "x"); got != "one" {
		t.Errorf("runtime tie: built %q, want the first", got)
	}
	if len(r2.Warnings()) != 1 {
		t.Errorf("runtime tie warnings = %v", r2.Warnings())
	}
}

func refs(es []*plugin.Entry) []string {
	var out []string
	for _, e := range es {
		out = append(out, e.Package.Name+":"+e.Class)
	}
	return out
}

func TestShadowedReachableByFullClassPath(t *testing.T) {
	ext := writePackage(t, t.TempDir(), extManifest("ext", "go:engine/ext.Chat", 10))
	r := newRegistry(t, []string{ext})
	c, err := r.Get(plugin.Endpoint, "go:engine/endpoint.Chat")
	if err != nil {
		t.Fatal(err)
	}
	if c != builtinChat {
		t.Errorf("full class path did not reach the shadowed built-in")
	}
	v, err := r.Build(&plugin.Spec{Category: plugin.Endpoint, Name: "go:engine/endpoint.Chat", Args: plugin.Args{"url": "u"}})
	if err != nil || v.(*fakeEndpoint).who != "builtin chat" {
		t.Errorf("Build by class = %v, %v", v, err)
	}
	if _, err := r.Get(plugin.Endpoint, "go:engine/nowhere.Chat"); err == nil || !strings.Contains(err.Error(), "available: go:engine/endpoint.Chat") {
		t.Errorf("unknown class path error = %v", err)
	}
}

func TestNamesNormaliseDashAndUnderscore(t *testing.T) {
	r := newRegistry(t, nil)
	for _, n := range []string{"request-rate", "request_rate"} {
		if _, err := r.Get(plugin.TimingStrategy, n); err != nil {
			t.Errorf("Get(%q): %v", n, err)
		}
	}
	if got := r.Names(plugin.TimingStrategy); !slices.Equal(got, []string{"request_rate"}) {
		t.Errorf("names = %v", got)
	}
}

func TestTypeNotFound(t *testing.T) {
	r := newRegistry(t, nil)
	_, err := r.Get(plugin.Endpoint, "my_plugin")
	var tnf *plugin.TypeNotFoundError
	if !errors.As(err, &tnf) {
		t.Fatalf("err = %v", err)
	}
	want := `type "my_plugin" not found for category "endpoint" (available: chat, completions)`
	if err.Error() != want {
		t.Errorf("err = %q\nwant  %q", err, want)
	}
	if errext.ExitCodeOf(err) != errext.InvalidConfig || !strings.Contains(errext.HintOf(err), "loadstar plugins endpoint") {
		t.Errorf("code/hint = %v / %q", errext.ExitCodeOf(err), errext.HintOf(err))
	}
	if _, err := r.Get("nope", "x"); err == nil || !strings.Contains(err.Error(), `unknown plugin category "nope"`) {
		t.Errorf("unknown category err = %v", err)
	}
}

func TestUnboundGoClass(t *testing.T) {
	r, err := plugin.NewRegistry(plugin.WithBuiltinManifest([]byte(builtinManifest)))
	if err != nil {
		t.Fatal(err)
	}
	_, err = r.Get(plugin.Endpoint, "chat")
	var cnf *plugin.ClassNotFoundError
	if !errors.As(err, &cnf) || !strings.Contains(err.Error(), "not bound") || errext.ExitCodeOf(err) != errext.PluginError {
		t.Fatalf("err = %v", err)
	}
	rep := r.Validate()
	if rep.OK() || len(rep.ByCategory()["endpoint"]) != 2 || len(rep.ByCategory()["timing_strategy"]) != 1 {
		t.Fatalf("report = %s", rep)
	}
	p := rep.ByCategory()["endpoint"][0]
	if p.Name != "chat" || !strings.Contains(p.Err.Error(), "engine/plugin/plugins.yaml:3: class go:engine/endpoint.Chat is not bound") {
		t.Errorf("problem = %s: %v", p.Name, p.Err)
	}
	if errext.ExitCodeOf(rep.Err()) != errext.PluginError {
		t.Errorf("report exit code = %v", errext.ExitCodeOf(rep.Err()))
	}
}

func TestValidateCleanWhenBound(t *testing.T) {
	r := newRegistry(t, nil)
	if rep := r.Validate(); !rep.OK() || rep.Checked != 3 {
		t.Errorf("report = %s (checked %d)", rep, rep.Checked)
	}
}

func TestRegisterResetSnapshot(t *testing.T) {
	r := newRegistry(t, nil)
	undo := r.Snapshot()
	if err := r.Register(plugin.Endpoint, "chat", class("runtime"), plugin.Priority(10), plugin.Describe("test")); err != nil {
		t.Fatal(err)
	}
	if got := build(t, r, plugin.Endpoint, "chat"); got != "runtime" {
		t.Errorf("after Register built %q", got)
	}
	if _, ok := r.Package("runtime"); !ok {
		t.Error("no runtime package listed")
	}
	undo()
	if got := build(t, r, plugin.Endpoint, "chat"); got != "builtin chat" {
		t.Errorf("after snapshot restore built %q", got)
	}
	if err := r.Register(plugin.Endpoint, "fresh", class("fresh")); err != nil {
		t.Fatal(err)
	}
	r.Reset()
	if _, err := r.Get(plugin.Endpoint, "fresh"); err == nil {
		t.Error("Reset kept a runtime plugin")
	}
	if _, ok := r.Package("runtime"); ok {
		t.Error("Reset kept the runtime package")
	}
	// Register checks its input.
	if err := r.Register(plugin.Endpoint, "Bad Name", class("x")); err == nil {
		t.Error("bad name accepted")
	}
	if err := r.Register(plugin.Endpoint, "x", class("x"), plugin.WithMetadata(map[string]any{"nonsense": 1})); err == nil || !strings.Contains(err.Error(), "metadata.nonsense: not a metadata field") {
		t.Errorf("bad metadata err = %v", err)
	}
	if err := r.Register(plugin.Endpoint, "x", nil); err == nil {
		t.Error("nil class accepted")
	}
}

func TestReverseLookup(t *testing.T) {
	r := newRegistry(t, nil)
	if n, ok := r.NameOf(plugin.Endpoint, builtinChat); !ok || n != "chat" {
		t.Errorf("NameOf(class) = %q, %v", n, ok)
	}
	v, err := r.Build(&plugin.Spec{Category: plugin.Endpoint, Name: "chat", Args: plugin.Args{"url": "u"}})
	if err != nil {
		t.Fatal(err)
	}
	if n, ok := r.NameOf(plugin.Endpoint, v); !ok || n != "chat" {
		t.Errorf("NameOf(impl) = %q, %v", n, ok)
	}
	if _, ok := r.NameOf(plugin.Endpoint, 42); ok {
		t.Error("NameOf(42) found something")
	}
}

func TestTypedMetadata(t *testing.T) {
	r := newRegistry(t, nil)
	md, err := r.EndpointMetadata("chat")
	if err != nil {
		t.Fatal(err)
	}
	want := plugin.EndpointMetadata{EndpointPath: "/v1/chat/completions", SupportsStreaming: true, ProducesTokens: true, TokenizesInput: true, MetricsTitle: "LLM Metrics"}
	if md != want {
		t.Errorf("metadata = %+v", md)
	}
	raw, _ := r.Metadata(plugin.Endpoint, "chat")
	if v, _ := raw.Get("supports_streaming"); v != true {
		t.Errorf("raw supports_streaming = %v", v)
	}
}

// The metadata schemas of categories.yaml and the typed structs agree.
func TestMetadataSchemaMatchesStructs(t *testing.T) {
	cats, err := plugin.BuiltinCategories()
	if err != nil {
		t.Fatal(err)
	}
	for cat, v := range map[plugin.Category]any{
		plugin.Endpoint: plugin.EndpointMetadata{}, plugin.Transport: plugin.TransportMetadata{},
		plugin.Plot: plugin.PlotMetadata{}, plugin.DataExporter: plugin.ExporterMetadata{},
		plugin.ConsoleExporter: plugin.ExporterMetadata{},
	} {
		info, _ := cats.Get(cat)
		var schema []string
		for _, f := range info.Metadata {
			schema = append(schema, f.Name+":"+f.Type)
		}
		var fields []string
		rt := reflect.TypeOf(v)
		for i := 0; i < rt.NumField(); i++ {
			tag, _, _ := strings.Cut(rt.Field(i).Tag.Get("json"), ",")
			typ := map[reflect.Kind]string{reflect.String: "string", reflect.Bool: "bool", reflect.Int: "int", reflect.Float64: "float", reflect.Slice: "list[string]"}[rt.Field(i).Type.Kind()]
			fields = append(fields, tag+":"+typ)
		}
		slices.Sort(schema)
		slices.Sort(fields)
		if !slices.Equal(schema, fields) {
			t.Errorf("%s: categories.yaml %v\n struct %v", cat, schema, fields)
		}
	}
}

func TestAllKeepsOrder(t *testing.T) {
	ext := writePackage(t, t.TempDir(), `schema_version: "1.0"
package: {name: ext, version: "1"}
endpoint:
  zeta:
    class: go:engine/ext.Chat
    metadata: `+endpointMD+`
  chat:
    class: go:engine/ext.Chat
    metadata: `+endpointMD+`
`)
	r := newRegistry(t, []string{ext})
	var names []string
	for _, e := range r.All(plugin.Endpoint) {
		names = append(names, e.Name+"@"+e.Package.Name)
	}
	if want := []string{"chat@ext", "completions@loadstar", "zeta@ext"}; !slices.Equal(names, want) {
		t.Errorf("All = %v, want %v", names, want)
	}
}

func TestPackageMetadata(t *testing.T) {
	ext := writePackage(t, t.TempDir(), extManifest("my-pkg", "go:engine/ext.Chat", 0))
	r := newRegistry(t, []string{ext}, plugin.WithBuiltinVersion("9.9.9"))
	p, ok := r.Package("my-pkg")
	if !ok || p.Version != "1.2.0" || p.Description != "Test package." || p.Dir != ext || p.Source != "--plugins" || p.Builtin {
		t.Errorf("package = %+v", p)
	}
	if b, _ := r.Package("loadstar"); b.Version != "9.9.9" {
		t.Errorf("built-in version = %q", b.Version)
	}
}

func TestDuplicatePackageName(t *testing.T) {
	dir := t.TempDir()
	a := writePackage(t, filepath.Join(dir, "a"), extManifest("same", "go:engine/ext.Chat", 0))
	b := writePackage(t, filepath.Join(dir, "b"), extManifest("same", "go:engine/ext2.Chat", 0))
	r, err := plugin.NewRegistry(plugin.WithBuiltinManifest([]byte(builtinManifest)), plugin.WithGoClasses(goClasses),
		plugin.WithPackages(plugin.PackageDir{Dir: a, Source: "x"}, plugin.PackageDir{Dir: b, Source: "x"}))
	if err == nil || !strings.Contains(err.Error(), `package "same" is already loaded`) || errext.ExitCodeOf(err) != errext.PluginError {
		t.Fatalf("err = %v", err)
	}
	if got := build(t, r, plugin.Endpoint, "chat"); got != "external chat" {
		t.Errorf("the first copy must stay: %q", got)
	}
}

func TestCheckArgs(t *testing.T) {
	c := &plugin.Class{Params: []plugin.Param{
		{Name: "rate", Type: plugin.TFloat, Required: true, Doc: "requests per second"},
		{Name: "arrival", Type: plugin.TSpec, SpecCategory: plugin.ArrivalPattern},
		{Name: "mode", Type: plugin.TString, Choices: []string{"a", "b"}},
		{Name: "every", Type: plugin.TDuration},
		{Name: "body", Type: plugin.TDict},
	}}
	ok := plugin.Args{"rate": int64(3), "arrival": &plugin.Spec{Category: plugin.ArrivalPattern, Name: "poisson"},
		"mode": "a", "every": time.Second, "body": ordered.New(0)}
	if err := c.CheckArgs("timing.x", ok); err != nil {
		t.Errorf("valid args: %v", err)
	}
	for _, tc := range []struct {
		args plugin.Args
		want string
	}{
		{plugin.Args{}, "timing.x: missing required argument rate (requests per second)"},
		{plugin.Args{"rate": 1.0, "bogus": 1}, `timing.x: unknown argument "bogus" (accepted: rate, arrival, mode, every, body)`},
		{plugin.Args{"rate": "fast"}, "timing.x: argument rate: want float, got string"},
		{plugin.Args{"rate": 1.0, "mode": "c"}, `argument mode: "c" is not one of a, b`},
		{plugin.Args{"rate": 1.0, "arrival": &plugin.Spec{Category: plugin.Endpoint, Name: "chat"}}, "argument arrival: want a plugin of category arrival_pattern (arrival.<name>(...)), got endpoint.chat()"},
	} {
		err := c.CheckArgs("timing.x", tc.args)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("CheckArgs(%v) = %v, want %q", tc.args, err, tc.want)
		}
	}
}
