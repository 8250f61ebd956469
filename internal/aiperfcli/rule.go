package aiperfcli

import (
	"fmt"
	"math"
	"reflect"
	"strings"
	"time"

	"github.com/loadstar/loadstar/engine/clock"
	"github.com/loadstar/loadstar/engine/plugin"
	"github.com/loadstar/loadstar/internal/sweep"
)

// A rule is one row of the table of AIPerf's rules between flags (rules).
// It names a flag, or several separated by spaces, and applies to each in
// turn: to a flag that is given and for which when holds (absentToo: also
// to one that is not given). A row makes one demand; the first flag that
// breaks it fails the build with a usage error "--flag: msg". A row
// without a demand prints its note instead.
//
// msg may hold placeholders: {} is the flag's value (one value of a list
// flag), {q} the value quoted, {err} the error of parse, {=name} the value
// of flag --name, {endpoint} the endpoint type, {schedule} what made the
// load a fixed schedule.
type rule struct {
	flag      string
	when      cond
	absentToo bool

	// The demand (one per row).
	requires  cond   // must hold
	conflicts cond   // must not hold
	valid     number // the flag's number must pass (every value of a list)
	oneOf     string // the value is one of these (space-separated)...
	refuse    string // ...and none of these, refused with refusal instead of msg
	refusal   string
	normalize bool                              // compare plugin.Normalize(value)
	parse     func(b *builder, value any) error // the value must parse
	check     func(b *builder) error            // anything else; returns the whole error
	note      string                            // no demand: tell the user
	noEffect  bool                              // the note says the flag has no effect (docs/profile.md lists it)

	msg string
}

// cond is a condition of a rule; flag is the flag the rule is applied to.
type cond struct {
	holds func(b *builder, flag string) bool
	// reads are the flags the condition reads (TestRulesNameRealFlags).
	reads []string
	// values are the values of valueIn, for docs/profile.md.
	values string
}

// number tests a flag's number.
type number struct {
	ok    func(b *builder, x float64) bool
	reads []string
}

// given holds when any of the flags (space-separated) is given.
func given(flags string) cond {
	names := strings.Fields(flags)
	return cond{holds: func(b *builder, _ string) bool {
		for _, n := range names {
			if b.given(n) {
				return true
			}
		}
		return false
	}, reads: names}
}

// absent holds when the rule's own flag is not given.
var absent = cond{holds: func(b *builder, flag string) bool { return !b.given(flag) }}

// isTrue holds when the rule's own (boolean) flag is true.
var isTrue = cond{holds: func(b *builder, flag string) bool { v, _ := b.value(flag); return v == true }}

// valueIn holds when the rule's own flag has one of the values.
func valueIn(values string) cond {
	set := strings.Fields(values)
	return cond{holds: func(b *builder, flag string) bool {
		v, _ := b.value(flag)
		s, _ := v.(string)
		return contains(set, s)
	}, values: values}
}

// flagIs holds when flag --name has exactly value.
func flagIs(name, value string) cond {
	return cond{holds: func(b *builder, _ string) bool { v, _ := b.value(name); return v == value }, reads: []string{name}}
}

// above0 holds when the number of flag --name is given and > 0.
func above0(name string) cond {
	return cond{holds: func(b *builder, _ string) bool { v, ok := b.value(name); return ok && toFloat(v) > 0 }, reads: []string{name}}
}

// state is a condition on what the builder derived (not on one flag).
func state(f func(b *builder) bool) cond {
	return cond{holds: func(b *builder, _ string) bool { return f(b) }}
}

func not(c cond) cond {
	return cond{holds: func(b *builder, flag string) bool { return !c.holds(b, flag) }, reads: c.reads}
}

func and(cs ...cond) cond {
	c := cond{holds: func(b *builder, flag string) bool {
		for _, c := range cs {
			if !c.holds(b, flag) {
				return false
			}
		}
		return true
	}}
	for _, x := range cs {
		c.reads = append(c.reads, x.reads...)
	}
	return c
}

func or(cs ...cond) cond {
	c := cond{holds: func(b *builder, flag string) bool {
		for _, c := range cs {
			if c.holds(b, flag) {
				return true
			}
		}
		return false
	}}
	for _, x := range cs {
		c.reads = append(c.reads, x.reads...)
	}
	return c
}

// Tests of a flag's number. NaN passes the tests that AIPerf's comparisons
// let through (atLeast, between, exclusive) and fails the others.
var (
	positive    = number{ok: func(_ *builder, x float64) bool { return x > 0 && !math.IsInf(x, 0) }}
	nonNegative = number{ok: func(_ *builder, x float64) bool { return x >= 0 && !math.IsInf(x, 0) }}
	percentage  = number{ok: func(_ *builder, x float64) bool { return x > 0 && x <= 100 }}
	// holdsSeconds and holdsMillis pass a number of seconds or
	// milliseconds that a duration can hold (clock.Span: about 292 years).
	holdsSeconds = number{ok: func(_ *builder, x float64) bool { _, err := clock.Seconds(x); return err == nil }}
	holdsMillis  = number{ok: func(_ *builder, x float64) bool { _, err := clock.Span(x, time.Millisecond); return err == nil }}
)

func atLeast(min float64) number {
	return number{ok: func(_ *builder, x float64) bool { return !(x < min) }}
}

func between(lo, hi float64) number {
	return number{ok: func(_ *builder, x float64) bool { return !(x < lo || x > hi) }}
}

func exclusive(lo, hi float64) number {
	return number{ok: func(_ *builder, x float64) bool { return !(x <= lo || x >= hi) }}
}

func exactly(v float64) number {
	return number{ok: func(_ *builder, x float64) bool { return x == v }}
}

// notBelow passes a number >= every value of flag --name.
func notBelow(name string) number {
	return number{func(b *builder, x float64) bool {
		for _, v := range b.numbers(name) {
			if x < toFloat(v) {
				return false
			}
		}
		return true
	}, []string{name}}
}

// notAbove holds when the value is at most every value of flag name.
func notAbove(name string) number {
	return number{func(b *builder, x float64) bool {
		for _, v := range b.numbers(name) {
			if x > toFloat(v) {
				return false
			}
		}
		return true
	}, []string{name}}
}

// apply checks the rules in order and returns the first broken one's error.
func (b *builder) apply(rules []rule) error {
	for i := range rules {
		r := &rules[i]
		for _, flag := range strings.Fields(r.flag) {
			if !r.absentToo && !b.given(flag) || r.when.holds != nil && !r.when.holds(b, flag) {
				continue
			}
			if err := b.demand(r, flag); err != nil {
				return err
			}
		}
	}
	return nil
}

// demand checks one rule on one flag.
func (b *builder) demand(r *rule, flag string) error {
	fail := func(msg string, v any, err error) error { return usage(flag, "%s", b.message(msg, v, err)) }
	v, _ := b.value(flag)
	switch {
	case r.requires.holds != nil:
		if !r.requires.holds(b, flag) {
			return fail(r.msg, v, nil)
		}
	case r.conflicts.holds != nil:
		if r.conflicts.holds(b, flag) {
			return fail(r.msg, v, nil)
		}
	case r.valid.ok != nil:
		_, list := listFlagOf(flag)
		for _, x := range b.numbers(flag) {
			if !r.valid.ok(b, toFloat(x)) {
				if list {
					x = listElem{x}
				}
				return fail(r.msg, x, nil)
			}
		}
	case r.oneOf != "" || r.refuse != "":
		s, _ := v.(string)
		if r.normalize {
			s = plugin.Normalize(s)
		}
		if contains(strings.Fields(r.refuse), s) {
			return fail(r.refusal, v, nil)
		}
		if !contains(strings.Fields(r.oneOf), s) {
			return fail(r.msg, v, nil)
		}
	case r.parse != nil:
		if err := r.parse(b, v); err != nil {
			return fail(r.msg, v, err)
		}
	case r.check != nil:
		return r.check(b)
	case r.note != "":
		b.plan.Notes = append(b.plan.Notes, b.message(r.note, v, nil))
	}
	return nil
}

// message fills in the placeholders of a rule's message.
func (b *builder) message(msg string, v any, err error) string {
	var out strings.Builder
	for {
		i := strings.IndexByte(msg, '{')
		j := strings.IndexByte(msg[i+1:], '}')
		if i < 0 || j < 0 {
			out.WriteString(msg)
			return out.String()
		}
		out.WriteString(msg[:i])
		switch key := msg[i+1 : i+1+j]; {
		case key == "":
			out.WriteString(formatValue(v))
		case key == "q":
			fmt.Fprintf(&out, "%q", v)
		case key == "err":
			fmt.Fprint(&out, err)
		case key == "endpoint":
			out.WriteString(b.epName)
		case key == "schedule":
			out.WriteString(b.scheduleReason())
		case strings.HasPrefix(key, "="):
			x, _ := b.value(key[1:])
			out.WriteString(formatValue(x))
		default:
			out.WriteString(msg[i : i+2+j])
		}
		msg = msg[i+2+j:]
	}
}

// listElem is one value of a magic list, shown as in sweep cell names.
type listElem struct{ v any }

// formatValue renders a flag value for a message.
func formatValue(v any) string {
	if e, ok := v.(listElem); ok {
		return sweep.FormatValue(e.v)
	}
	return fmt.Sprint(v)
}

// flagFields indexes the fields of Flags by flag name (not aliases).
var flagFields = func() map[string][]int {
	m := map[string][]int{}
	t := reflect.TypeOf(Flags{})
	for i := 0; i < t.NumField(); i++ {
		if f := t.Field(i); !f.Anonymous {
			m[f.Tag.Get("name")] = f.Index
		}
	}
	return m
}()

// value returns the value of flag --name (a pointer dereferenced) and
// whether it is given: a non-nil pointer, a non-empty string (a magic list
// with more than blanks), a true bool, a non-empty list, a non-zero count.
func (b *builder) value(name string) (any, bool) {
	idx, ok := flagFields[name]
	if !ok {
		return nil, false // TestRulesNameRealFlags keeps misspelt flags out of the rules
	}
	v := reflect.ValueOf(b.f).Elem().FieldByIndex(idx)
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return nil, false
		}
		return v.Elem().Interface(), true
	case reflect.String:
		s := v.String()
		if isListFlag(name) {
			return s, strings.TrimSpace(s) != ""
		}
		return s, s != ""
	case reflect.Bool:
		return v.Bool(), v.Bool()
	case reflect.Slice:
		l := v.Convert(reflect.TypeOf([]string(nil))).Interface().([]string)
		return l, len(l) > 0
	case reflect.Int:
		return int(v.Int()), v.Int() != 0
	}
	return v.Interface(), !v.IsZero()
}

func (b *builder) given(name string) bool { _, ok := b.value(name); return ok }

// numbers returns the numbers of flag --name: every value of a magic list
// (parsed), or the one value of a numeric flag; nil when not given.
func (b *builder) numbers(name string) []any {
	if l, ok := listFlagOf(name); ok {
		return b.lists[l.param]
	}
	if v, ok := b.value(name); ok {
		return []any{v}
	}
	return nil
}

func toFloat(v any) float64 {
	switch x := v.(type) {
	case int:
		return float64(x)
	case int64:
		return float64(x)
	case float64:
		return x
	}
	return math.NaN()
}

func contains(set []string, s string) bool {
	for _, x := range set {
		if x == s {
			return true
		}
	}
	return false
}
