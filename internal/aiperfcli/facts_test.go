package aiperfcli

// Each fact of `loadstar profile` has one source; these tests hold the
// other places that state it (help texts, docs/profile.md) to it.

import (
	"fmt"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/loadstar/loadstar/builtins"
	"github.com/loadstar/loadstar/engine/config"
	"github.com/loadstar/loadstar/engine/dataset"
	"github.com/loadstar/loadstar/engine/dist"
	"github.com/loadstar/loadstar/engine/mock"
	"github.com/loadstar/loadstar/engine/plugin"
	"github.com/loadstar/loadstar/stdlib"
)

// flagField is one supported flag of Flags.
type flagField struct {
	name, short, help string
	aliases           []string
	negatable         bool
	list              bool // a listValue (takes several values)
}

func supportedFlags() []flagField {
	var out []flagField
	typ := reflect.TypeOf(Flags{})
	for i := 0; i < typ.NumField(); i++ {
		f := typ.Field(i)
		if f.Anonymous {
			continue
		}
		ff := flagField{name: f.Tag.Get("name"), short: f.Tag.Get("short"), help: f.Tag.Get("help"),
			list: f.Type == reflect.TypeOf(listValue(nil))}
		if a := f.Tag.Get("aliases"); a != "" {
			ff.aliases = strings.Split(a, ",")
		}
		_, ff.negatable = f.Tag.Lookup("negatable")
		out = append(out, ff)
	}
	return out
}

func profileDoc(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(pkgDir + "/../../docs/profile.md")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

var backticked = regexp.MustCompile("`(-[^`]*)`")

// supportedRows maps each flag named in the first cell of a row of
// docs/profile.md's "Supported flags" tables to the row's cells.
func supportedRows(t *testing.T) map[string][]string {
	t.Helper()
	doc := profileDoc(t)
	i, j := strings.Index(doc, "## Supported flags"), strings.Index(doc, "## Flags loadstar does not honour")
	if i < 0 || j < i {
		t.Fatal("docs/profile.md lacks its Supported flags section")
	}
	rows := map[string][]string{}
	for _, line := range strings.Split(doc[i:j], "\n") {
		if !strings.HasPrefix(line, "| `-") {
			continue
		}
		cells := strings.Split(strings.Trim(line, "| "), " | ")
		for _, m := range backticked.FindAllStringSubmatch(cells[0], -1) {
			rows[m[1]] = cells
		}
	}
	return rows
}

// TestDocsRowsListAliases: a flag's row in docs/profile.md lists all its
// names (short form, aliases, negation) as the kong tags declare them.
func TestDocsRowsListAliases(t *testing.T) {
	rows := supportedRows(t)
	for _, f := range supportedFlags() {
		row, ok := rows["--"+f.name]
		if !ok {
			t.Errorf("docs/profile.md has no row for --%s", f.name)
			continue
		}
		names := append([]string{}, f.aliases...)
		if f.negatable {
			names = append(names, "no-"+f.name)
		}
		for _, n := range names {
			if !strings.Contains(row[0], "`--"+n+"`") {
				t.Errorf("docs/profile.md's row of --%s lacks `--%s`", f.name, n)
			}
		}
		if f.short != "" && !strings.Contains(row[0], "`-"+f.short+"`") {
			t.Errorf("docs/profile.md's row of --%s lacks `-%s`", f.name, f.short)
		}
	}
}

// TestHelpListsAliases: help texts end with the flag's aliases exactly.
func TestHelpListsAliases(t *testing.T) {
	for _, f := range supportedFlags() {
		_, also, has := strings.Cut(f.help, "(Also ")
		switch {
		case len(f.aliases) == 0 && has:
			t.Errorf("--%s: help names aliases the flag does not have: %q", f.name, f.help)
		case len(f.aliases) > 0:
			want := "--" + strings.Join(f.aliases, ", --") + ".)"
			if also != want {
				t.Errorf("--%s: help ends %q, want (Also %s", f.name, also, want)
			}
		}
	}
}

// TestSweepableFlags: the flags that run a sweep (listFlags) are the ones
// whose help and docs row say so, and docs/profile.md lists them in order.
func TestSweepableFlags(t *testing.T) {
	rows := supportedRows(t)
	for _, f := range supportedFlags() {
		if got := strings.Contains(f.help, "Comma list: sweep."); got != isListFlag(f.name) {
			t.Errorf("--%s: help says comma list %v, listFlags %v", f.name, got, isListFlag(f.name))
		}
		if row := rows["--"+f.name]; len(row) > 1 && strings.Contains(row[1], "(list") != isListFlag(f.name) {
			t.Errorf("--%s: docs row %q disagrees with listFlags", f.name, row[1])
		}
	}
	doc := profileDoc(t)
	_, after, _ := strings.Cut(doc, "Comma lists on ")
	para, _, _ := strings.Cut(after, " run a")
	var got []string
	for _, m := range backticked.FindAllStringSubmatch(para, -1) {
		got = append(got, strings.TrimPrefix(m[1], "--"))
	}
	if want := strings.Fields(sweepFlags); !reflect.DeepEqual(got, want) {
		t.Errorf("docs/profile.md's sweep paragraph lists %v, listFlags %v", got, want)
	}
}

// TestListOptions: docs/profile.md's list of options that take several
// values is the flags of type listValue.
func TestListOptions(t *testing.T) {
	var want []string
	for _, f := range supportedFlags() {
		if f.list {
			if f.short != "" {
				want = append(want, "-"+f.short)
			} else {
				want = append(want, "--"+f.name)
			}
		}
	}
	_, after, _ := strings.Cut(profileDoc(t), "List options (")
	para, _, _ := strings.Cut(after, ")")
	var got []string
	for _, m := range backticked.FindAllStringSubmatch(para, -1) {
		got = append(got, m[1])
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("docs/profile.md's list options %v, listValue flags %v", got, want)
	}
}

// TestEndpointTypesDocumented: --endpoint-type's help and docs row name
// every endpoint plugin, and the row every AIPerf type loadstar refuses.
func TestEndpointTypesDocumented(t *testing.T) {
	row := supportedRows(t)["--endpoint-type"]
	var help string
	for _, f := range supportedFlags() {
		if f.name == "endpoint-type" {
			help = f.help
		}
	}
	for _, name := range registry(t).Names(plugin.Endpoint) {
		if !regexp.MustCompile(`\b` + name + `\b`).MatchString(help) {
			t.Errorf("--endpoint-type's help does not name the %s endpoint", name)
		}
		if !strings.Contains(row[3], "`"+name+"`") {
			t.Errorf("docs/profile.md's --endpoint-type row does not name the %s endpoint", name)
		}
	}
	for name := range unsupportedEndpoints {
		if !strings.Contains(row[3], "`"+name+"`") {
			t.Errorf("docs/profile.md's --endpoint-type row does not say %s is refused", name)
		}
	}
}

// TestDefaultsHaveOneSource: every default a help text states, "(default
// V", is the value the code uses (a plugin's Param.Default, config.Defaults,
// mock.DefaultConfig, or what Build does), and the docs row says the same.
func TestDefaultsHaveOneSource(t *testing.T) {
	t.Chdir(t.TempDir())
	param := func(cat plugin.Category, name, p string) any {
		c, err := registry(t).Get(cat, name)
		if err != nil {
			t.Fatal(err)
		}
		pr, ok := c.Param(p)
		if !ok {
			t.Fatalf("%s.%s has no parameter %s", cat, name, p)
		}
		return pr.Default
	}
	num := func(v any) string {
		switch x := v.(type) {
		case dist.Fixed:
			return strconv.FormatFloat(x.V, 'f', -1, 64)
		case dist.Normal:
			return strconv.FormatFloat(x.Mu, 'f', -1, 64)
		case time.Duration:
			return strconv.FormatFloat(x.Seconds(), 'f', -1, 64)
		case float64:
			return strconv.FormatFloat(x, 'f', -1, 64)
		case int64:
			return strconv.FormatInt(x, 10)
		}
		t.Fatalf("no number in %#v", v)
		return ""
	}
	rankingsMean := func(stddevFlag, arg string) func() string {
		return func() string {
			cfg := mustBuild(t, "--endpoint-type", "cohere_rankings", stddevFlag, "2").cells[0].Config
			return num(cfg.Dataset.Args[arg])
		}
	}
	sources := map[string]func() string{
		"endpoint-type":                 func() string { return mustBuild(t).cells[0].Config.Endpoint.Name },
		"request-timeout-seconds":       func() string { return num(param(plugin.Endpoint, "chat", "timeout")) },
		"max-redirects":                 func() string { return num(param(plugin.Transport, "http", "max_redirects")) },
		"session-header":                func() string { return param(plugin.Endpoint, "chat", "session_header").(string) },
		"tokenizer-revision":            func() string { return defaultRevision },
		"num-dataset-entries":           func() string { return num(param(plugin.DatasetComposer, "synthetic", "entries")) },
		"conversation-turn-mean":        func() string { return num(param(plugin.DatasetComposer, "synthetic", "turns")) },
		"conversation-turn-delay-ratio": func() string { return num(param(plugin.DatasetComposer, "synthetic", "turn_delay_ratio")) },
		"isl":                           func() string { return num(param(plugin.DatasetComposer, "synthetic", "isl")) },
		"prompt-batch-size":             func() string { return num(param(plugin.DatasetComposer, "synthetic", "batch_size")) },
		"image-format":                  func() string { return param(plugin.DatasetComposer, "synthetic", "image_format").(string) },
		"audio-sample-rates": func() string {
			return num(param(plugin.DatasetComposer, "synthetic", "audio_sample_rate").(int64) / 1000)
		},
		"rankings-passages-mean":              rankingsMean("--rankings-passages-stddev", "passages"),
		"rankings-passages-prompt-token-mean": rankingsMean("--rankings-passages-prompt-token-stddev", "passage_length"),
		"rankings-query-prompt-token-mean":    rankingsMean("--rankings-query-prompt-token-stddev", "query_length"),
		"benchmark-grace-period":              func() string { return num(config.Defaults().Grace) },
		"wait-for-model-interval":             func() string { return num(config.Defaults().WaitForModel.Interval) },
		"wait-for-model-mode":                 func() string { return config.Defaults().WaitForModel.Mode },
		"warmup-grace-period": func() string {
			with := mustBuild(t, "--warmup-duration", "1", "--warmup-grace-period", "inf").cells[0].Config.Warmup
			without := mustBuild(t, "--warmup-duration", "1").cells[0].Config.Warmup
			if reflect.DeepEqual(with, without) {
				return "inf"
			}
			return "not inf"
		},
		"confidence-level":                 func() string { return num(mustBuild(t, "--num-profile-runs", "2").confidence) },
		"synthesis-speedup-ratio":          func() string { return num(dataset.NoSynthesis().Speedup) },
		"synthesis-prefix-len-multiplier":  func() string { return num(dataset.NoSynthesis().PrefixLen) },
		"synthesis-prefix-root-multiplier": func() string { return num(int64(dataset.NoSynthesis().PrefixRoots)) },
		"synthesis-prompt-len-multiplier":  func() string { return num(dataset.NoSynthesis().PromptLen) },
		"synthesis-output-len-multiplier":  func() string { return num(dataset.NoSynthesis().OutputLen) },
		"mock-ttft":                        func() string { return mock.DefaultConfig().TTFT.String() },
		"mock-itl":                         func() string { return mock.DefaultConfig().ITL.String() },
	}
	stated := regexp.MustCompile(`\bdefault ([A-Za-z0-9._-]+)[;,.)]`)
	rows := supportedRows(t)
	for _, f := range supportedFlags() {
		m := stated.FindStringSubmatch(f.help)
		if m == nil || m[1] == "0" || m[1] == "max" {
			continue // zero means absent; max(10, 2 x concurrency) is the runner's rule
		}
		src, ok := sources[f.name]
		if !ok {
			t.Errorf("--%s: help states default %s; add its source to this test", f.name, m[1])
			continue
		}
		want := src()
		if !sameValue(m[1], want) {
			t.Errorf("--%s: help states default %s, the code uses %s", f.name, m[1], want)
		}
		if row := rows["--"+f.name]; len(row) > 2 && !strings.Contains(row[2], m[1]) {
			t.Errorf("--%s: docs/profile.md's default %q does not state %s", f.name, row[2], m[1])
		}
		delete(sources, f.name)
	}
	for name := range sources {
		t.Errorf("--%s: its help states no default", name)
	}
	// The block size's default is the format's (dataset.DefaultBlockSize).
	for _, f := range supportedFlags() {
		if f.name != "isl-block-size" {
			continue
		}
		for _, format := range []string{dataset.MooncakeTrace, dataset.BailianTrace} {
			if want := fmt.Sprintf("%d for %s", dataset.DefaultBlockSize(format), format); !strings.Contains(f.help, want) {
				t.Errorf("--isl-block-size: help %q does not say %q", f.help, want)
			}
		}
	}
}

// sameValue compares numbers numerically (1.0 is 1) and words exactly.
func sameValue(a, b string) bool {
	x, errA := strconv.ParseFloat(a, 64)
	y, errB := strconv.ParseFloat(b, 64)
	if errA == nil && errB == nil {
		return x == y
	}
	return a == b
}

// TestRunKwargsInRunOrder: the renderer writes run()'s keyword arguments
// in run()'s documentation order (loadstar doc run) and no other.
func TestRunKwargsInRunOrder(t *testing.T) {
	cfg := mustBuild(t, "--request-count", "5", "--benchmark-duration", "2", "--benchmark-grace-period", "1",
		"--warmup-request-count", "1", "--request-cancellation-rate", "5", "--goodput", "time_to_first_token:100", "--random-seed", "1",
		"--use-server-token-count", "--dataset-sampling-strategy", "random", "--connection-reuse-strategy", "never",
		"--artifact-dir", "a", "--profile-export-prefix", "p", "--export-level", "raw", "--slice-duration", "1", "--server-metrics", "h:9100",
		"--ui-type", "none", "--auto-plot", "--failed-request-threshold", "0.5", "--wait-for-model-timeout", "60", "--streaming", "--prefill-concurrency", "1", "--prefill-concurrency-ramp-duration", "2").cells[0].Config
	cfg.Abort.Unreachable = false
	cfg.Stop.Sessions = 3
	cfg.Phases = []config.Phase{{Name: "p", Stop: config.Stop{Requests: 1}}}
	cfg.Thresholds = []config.Threshold{{Metric: "m", Expr: "< 1"}}
	cfg.URLSelection = &plugin.Spec{Category: plugin.URLSelectionStrategy, Name: "round_robin"}
	cfg.Validity.FailOnInvalid = !cfg.Validity.FailOnInvalid
	cfg.Name = "n"
	cfg.Output.Overwrite = true
	var order []string
	for _, k := range builtins.FindDoc(builtins.Reference(registry(t), stdlib.FS), "run")[0].Args {
		order = append(order, k.Name)
	}
	rendered := (&renderer{}).runKwargs(cfg)
	next := 0
	for _, k := range rendered {
		i := next
		for i < len(order) && order[i] != k.Name {
			i++
		}
		if i == len(order) {
			t.Fatalf("%s is rendered out of run()'s order %v (or is no run() argument)", k.Name, order)
		}
		next = i + 1
	}
	if len(rendered) != len(order) {
		t.Errorf("rendered %d arguments of run()'s %d: %v", len(rendered), len(order), rendered)
	}
}
