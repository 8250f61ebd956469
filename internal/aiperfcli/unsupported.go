package aiperfcli

import (
	"reflect"
	"strconv"
	"strings"

	"github.com/alecthomas/kong"

	"github.com/loadstar/loadstar/engine/redact"
)

// listValue is a flag taking one or more values, as AIPerf's list options
// do: `--extra-inputs a:1 b:2` and `--extra-inputs a:1 --extra-inputs b:2`
// both give [a:1 b:2]. Values continue until the next flag.
type listValue []string

// Decode implements kong.MapperValue.
func (l *listValue) Decode(ctx *kong.DecodeContext) error {
	var s string
	if err := ctx.Scan.PopValueInto("string", &s); err != nil {
		return err
	}
	*l = append(*l, s)
	for {
		t := ctx.Scan.Peek()
		if t.IsEOL() || !t.IsValue() {
			return nil
		}
		*l = append(*l, ctx.Scan.Pop().String())
	}
}

// optionalValue is a flag that may or may not be followed by a value
// (AIPerf's `--server-metrics [URL ...]`): it takes the next argument only
// when that is not another flag.
type optionalValue struct {
	Given bool
	Value string
}

// Decode implements kong.MapperValue.
func (o *optionalValue) Decode(ctx *kong.DecodeContext) error {
	o.Given = true
	if t := ctx.Scan.Peek(); !t.IsEOL() && t.IsValue() {
		o.Value = ctx.Scan.Pop().String()
	}
	return nil
}

// unsupportedFlag is one field of unsupported.
type unsupportedFlag struct {
	name, short string
	aliases     []string
	reason      string // the group's reason; "" for a flag accepted without effect
	note        string // printed when a flag without effect is given
	index       []int  // of the field in unsupported
}

// unsupportedFlags lists unsupported's flags in declaration order.
var unsupportedFlags = func() []unsupportedFlag {
	var out []unsupportedFlag
	groups := reflect.TypeOf(unsupported{})
	for i := 0; i < groups.NumField(); i++ {
		g := groups.Field(i)
		for j := 0; j < g.Type.NumField(); j++ {
			f := g.Type.Field(j)
			u := unsupportedFlag{name: f.Tag.Get("name"), short: f.Tag.Get("short"), reason: g.Tag.Get("reason"),
				note: f.Tag.Get("note"), index: []int{i, j}}
			if a := f.Tag.Get("aliases"); a != "" {
				u.aliases = strings.Split(a, ",")
			}
			out = append(out, u)
		}
	}
	return out
}()

// checkUnsupported fails on the first AIPerf flag loadstar cannot honour and
// notes the ones without effect.
func (b *builder) checkUnsupported() error {
	v := reflect.ValueOf(b.f.unsupported)
	for _, u := range unsupportedFlags {
		if !v.FieldByIndex(u.index).Interface().(optionalValue).Given {
			continue
		}
		if u.note != "" {
			b.plan.Notes = append(b.plan.Notes, u.note)
			continue
		}
		return usage(u.name, "not supported: %s", u.reason)
	}
	return nil
}

// redactedCommand renders a command line for run_info.cli_command and the
// emitted scenario's header, with the API key and secret header values
// replaced by <redacted>.
func redactedCommand(args []string) string {
	if len(args) == 0 {
		return ""
	}
	out := []string{"loadstar"}
	for i, r := range redact.Args(args) {
		name, val, hasVal := strings.Cut(r, "=")
		switch {
		case r == args[i] || !strings.HasPrefix(r, "-"):
			out = append(out, quoteArg(r))
		case strings.HasPrefix(r, "-H") && !strings.HasPrefix(r, "--"):
			out = append(out, "-H"+quoteArg(r[2:]))
		case hasVal:
			out = append(out, name+"="+quoteArg(val))
		default:
			out = append(out, quoteArg(r))
		}
	}
	return strings.Join(out, " ")
}

func quoteArg(a string) string {
	if a == "" || strings.ContainsAny(a, " \t\n\"'$`\\;|&<>(){}*?[]#~") {
		return strconv.Quote(a)
	}
	return a
}
