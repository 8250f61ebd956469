package aiperfcli

import (
	"fmt"
	"math"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/loadstar/loadstar/engine/errext"
)

// ruleBuilder is a builder for flags, as far as rules need one.
func ruleBuilder(t *testing.T, f *Flags) *builder {
	t.Helper()
	params, fixed, err := expandLists(f)
	if err != nil {
		t.Fatal(err)
	}
	b := &builder{f: f, plan: &Plan{trials: 1}, params: params, lists: map[string][]any{}, epName: "chat"}
	for k, v := range fixed {
		b.lists[k] = []any{v}
	}
	for _, p := range params {
		b.lists[p.Name] = p.Values
	}
	return b
}

func ptr[T any](v T) *T { return &v }

// TestRuleKinds runs one rule of each kind on flags that keep and break it.
func TestRuleKinds(t *testing.T) {
	cases := []struct {
		name  string
		rule  rule
		flags Flags
		want  string // the error, "" for none
		note  string // the note added, if any
	}{
		{"requires: kept", rule{flag: "isl-stddev", requires: given("isl"), msg: "needs --isl"}, Flags{ISL: "5", ISLStddev: "1"}, "", ""},
		{"requires: broken", rule{flag: "isl-stddev", requires: given("isl"), msg: "needs --isl"}, Flags{ISLStddev: "1"}, "--isl-stddev: needs --isl", ""},
		{"requires: flag not given, rule idle", rule{flag: "isl-stddev", requires: given("isl"), msg: "needs --isl"}, Flags{}, "", ""},
		{"a blank magic list is not given", rule{flag: "isl-stddev", requires: given("isl"), msg: "needs --isl"}, Flags{ISLStddev: "1", ISL: " "}, "--isl-stddev: needs --isl", ""},
		{"conflicts: broken", rule{flag: "request-count", conflicts: given("conversation-num"), msg: "not both"},
			Flags{RequestCount: "3", ConversationNum: "2"}, "--request-count: not both", ""},
		{"conflicts: kept", rule{flag: "request-count", conflicts: given("conversation-num"), msg: "not both"}, Flags{RequestCount: "3"}, "", ""},
		{"valid: kept", rule{flag: "num-profile-runs", valid: between(1, 10), msg: "got {}"}, Flags{NumProfileRuns: ptr(10)}, "", ""},
		{"valid: broken", rule{flag: "num-profile-runs", valid: between(1, 10), msg: "must be from 1 to 10, got {}"},
			Flags{NumProfileRuns: ptr(11)}, "--num-profile-runs: must be from 1 to 10, got 11", ""},
		{"valid: NaN is not positive", rule{flag: "replay-speedup", valid: positive, msg: "must be > 0, got {}"},
			Flags{ReplaySpeedup: ptr(math.NaN())}, "--replay-speedup: must be > 0, got NaN", ""},
		{"valid: every value of a list, shown as in cell names", rule{flag: "concurrency", valid: notBelow("num-users"), msg: "got {}"},
			Flags{Concurrency: "8,2", NumUsers: "4"}, "--concurrency: got 2", ""},
		{"oneOf: kept", rule{flag: "sweep-type", oneOf: "grid zip", msg: "got {q}"}, Flags{SweepType: "zip"}, "", ""},
		{"oneOf: broken", rule{flag: "sweep-type", oneOf: "grid zip", msg: "must be grid or zip, got {q}"},
			Flags{SweepType: "cube"}, `--sweep-type: must be grid or zip, got "cube"`, ""},
		{"refuse: an AIPerf value loadstar refuses", rule{flag: "model-selection-strategy", oneOf: "round_robin", refuse: "random", msg: "got {q}", refusal: "{} is not supported"},
			Flags{ModelSelectionStrategy: "random"}, "--model-selection-strategy: random is not supported", ""},
		{"normalize", rule{flag: "dataset-sampling-strategy", normalize: true, oneOf: "random_pool", msg: "got {q}"},
			Flags{DatasetSamplingStrategy: "random-pool"}, "", ""},
		{"parse: broken", rule{flag: "seq-dist", parse: parseSequence, msg: "{err}"}, Flags{SeqDist: "128,64:50"}, "--seq-dist: ", ""},
		{"check: returns its own error", rule{flag: "goodput", check: func(*builder) error { return invalid("goodput", "own") }},
			Flags{Goodput: "x"}, "--goodput: own", ""},
		{"when: rule idle when false", rule{flag: "mock-seed", when: not(given("url")), valid: atLeast(0), msg: "got {}"},
			Flags{MockSeed: ptr(int64(-1)), URL: []string{"h:1"}}, "", ""},
		{"absentToo: applies to a flag not given", rule{flag: "model", absentToo: true, when: given("url"), requires: given("model"), msg: "required"},
			Flags{URL: []string{"h:1"}}, "--model: required", ""},
		{"several flags: the first that breaks the rule is named", rule{flag: "mock-ttft mock-itl mock-fast", conflicts: given("url"), msg: "mock only"},
			Flags{URL: []string{"h:1"}, MockFast: true, MockITL: "2"}, "--mock-itl: mock only", ""},
		{"note", rule{flag: "ui-type", when: valueIn("dashboard"), note: "--ui-type {}: simple"}, Flags{UIType: "dashboard"}, "", "--ui-type dashboard: simple"},
		{"note: idle", rule{flag: "ui-type", when: valueIn("dashboard"), note: "--ui-type {}: simple"}, Flags{UIType: "none"}, "", ""},
		{"placeholders: another flag's value", rule{flag: "fixed-schedule-end-offset", valid: notBelow("fixed-schedule-start-offset"), msg: "must be >= {=fixed-schedule-start-offset}, got {}"},
			Flags{FixedScheduleStartOffset: ptr(int64(50)), FixedScheduleEndOffset: ptr(int64(10))}, "--fixed-schedule-end-offset: must be >= 50, got 10", ""},
		{"placeholders: endpoint", rule{flag: "isl", conflicts: state(func(*builder) bool { return true }), msg: "not for {endpoint}"}, Flags{ISL: "4"}, "--isl: not for chat", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := c.flags
			b := ruleBuilder(t, &f)
			err := b.apply([]rule{c.rule})
			switch {
			case c.want == "" && err != nil:
				t.Fatalf("error %v, want none", err)
			case c.want != "" && (err == nil || !strings.HasPrefix(err.Error(), c.want)):
				t.Fatalf("error %v, want %q", err, c.want)
			case c.want != "" && c.rule.check == nil && errext.ExitCodeOf(err) != errext.Usage:
				t.Errorf("exit code %d, want usage", errext.ExitCodeOf(err))
			}
			if got := strings.Join(b.plan.Notes, "\n"); got != c.note {
				t.Errorf("notes %q, want %q", got, c.note)
			}
		})
	}
}

// TestRulesNameRealFlags: every flag a rule names, reads or mentions exists,
// and every row has the shape the engine expects, so that a typo in a row
// fails here rather than making the rule silently idle.
func TestRulesNameRealFlags(t *testing.T) {
	for _, p := range ruleProblems(rules) {
		t.Error(p)
	}
	// The check itself catches what it is for.
	broken := []rule{
		{flag: "isl-stdev", requires: given("isl"), msg: "needs --isl"},
		{flag: "isl", requires: given("osl-mean"), msg: "x"},
		{flag: "isl", conflicts: given("osl"), msg: "give --isl or --osl-mean"},
		{flag: "isl", requires: given("osl"), conflicts: given("osl"), msg: "two demands"},
		{flag: "sweep-type", valid: positive, msg: "a number test on a string"},
		{flag: "isl", oneOf: "a b", msg: "choices of a magic list"},
		{flag: "isl", requires: given("osl")},
		{flag: "random-seed", valid: atLeast(0), msg: "got {=seed}"},
	}
	got := ruleProblems(broken)
	for _, want := range []string{"--isl-stdev", "--osl-mean", "mentions --osl-mean", "2 demands", "number test", "choices", "no message", "no flag --seed"} {
		found := false
		for _, p := range got {
			found = found || strings.Contains(p, want)
		}
		if !found {
			t.Errorf("ruleProblems misses %q in %q", want, got)
		}
	}
}

var mentionedFlag = regexp.MustCompile(`--[a-z0-9]+(-[a-z0-9*]+)*`)

// ruleProblems lists what is wrong with rows of a rule table.
func ruleProblems(rows []rule) []string {
	var out []string
	known := knownFlagNames()
	for i, r := range rows {
		where := func(format string, args ...any) {
			out = append(out, fmt.Sprintf("rule %d (%s): ", i, r.flag)+fmt.Sprintf(format, args...))
		}
		var names []string
		names = append(names, strings.Fields(r.flag)...)
		for _, c := range []cond{r.when, r.requires, r.conflicts} {
			names = append(names, c.reads...)
		}
		names = append(names, r.valid.reads...)
		for _, m := range placeholderFlags.FindAllStringSubmatch(r.msg+r.refusal+r.note, -1) {
			names = append(names, m[1])
		}
		for _, n := range names {
			if _, ok := flagFields[n]; !ok {
				where("no flag --%s", n)
			}
		}
		for _, m := range mentionedFlag.FindAllString(r.msg+" "+r.refusal+" "+r.note, -1) {
			if !known(strings.TrimPrefix(m, "--")) {
				where("mentions %s, which is no flag", m)
			}
		}
		demands := 0
		for _, set := range []bool{r.requires.holds != nil, r.conflicts.holds != nil, r.valid.ok != nil, r.oneOf != "" || r.refuse != "",
			r.parse != nil, r.check != nil, r.note != ""} {
			if set {
				demands++
			}
		}
		if demands != 1 {
			where("%d demands, want 1", demands)
		}
		if r.msg == "" && r.check == nil && r.note == "" {
			where("no message")
		}
		if (r.refuse != "") != (r.refusal != "") {
			where("refuse and refusal go together")
		}
		for _, n := range strings.Fields(r.flag) {
			idx, ok := flagFields[n]
			if !ok {
				continue
			}
			typ := reflect.TypeOf(Flags{}).FieldByIndex(idx).Type
			if r.valid.ok != nil && !isListFlag(n) && !(typ.Kind() == reflect.Pointer && typ.Elem().Kind() != reflect.Bool) {
				where("number test on --%s, which is not a number", n)
			}
			if (r.oneOf != "" || r.refuse != "") && (typ.Kind() != reflect.String || isListFlag(n)) {
				where("choices on --%s, which does not take a word", n)
			}
		}
	}
	return out
}

var placeholderFlags = regexp.MustCompile(`\{=([^}]*)\}`)

// knownFlagNames reports whether a name (or a prefix ending in "-*") is a
// flag of `loadstar profile`: a name, an alias or a negation.
func knownFlagNames() func(string) bool {
	var names []string
	typ := reflect.TypeOf(Flags{})
	for i := 0; i < typ.NumField(); i++ {
		f := typ.Field(i)
		if f.Anonymous {
			continue
		}
		n := f.Tag.Get("name")
		names = append(names, n)
		if a := f.Tag.Get("aliases"); a != "" {
			names = append(names, strings.Split(a, ",")...)
		}
		if _, ok := f.Tag.Lookup("negatable"); ok {
			names = append(names, "no-"+n)
		}
	}
	return func(n string) bool {
		if prefix, ok := strings.CutSuffix(n, "-*"); ok {
			for _, x := range names {
				if strings.HasPrefix(x, prefix+"-") {
					return true
				}
			}
			return false
		}
		for _, x := range names {
			if x == n {
				return true
			}
		}
		return false
	}
}

// Durations beyond about 292 years would wrap to negative spans: every
// flag that becomes a duration refuses them (issue 14).
func TestDurationFlagsRefuseOverflow(t *testing.T) {
	for _, args := range [][]string{
		{"--benchmark-duration", "1e10"},
		{"--benchmark-duration", "10,1e12"},
		{"--request-timeout-seconds", "9223372037"},
		{"--warmup-request-count", "1", "--warmup-duration", "1e300"},
		{"--concurrency", "2", "--concurrency-ramp-duration", "1e11"},
		{"--slice-duration", "1e10"},
		{"--benchmark-duration", "10", "--benchmark-grace-period", "1e10"},
		{"--conversation-turn-mean", "2", "--conversation-turn-delay-mean", "1e16"},
		{"--mock-ttft", "1e16"},
	} {
		_, err := build(t, append([]string{"--model", "m", "--request-count", "4"}, args...)...)
		if err == nil || !strings.Contains(err.Error(), "292 years") {
			t.Errorf("%v: err %v, want a refusal naming the 292-year limit", args, err)
		}
	}
	if _, err := build(t, "--model", "m", "--benchmark-duration", "9223372036"); err != nil {
		t.Errorf("the longest duration is accepted: %v", err)
	}
}
