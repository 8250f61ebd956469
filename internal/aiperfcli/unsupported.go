package aiperfcli

import (
	"reflect"
	"strconv"
	"strings"

	"github.com/alecthomas/kong"

	"github.com/loadstar/loadstar/engine/plugin"
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
	redactNext := ""
	for _, a := range args {
		if redactNext != "" {
			out = append(out, quoteArg(redactArg(redactNext, a)))
			redactNext = ""
			continue
		}
		name, val, hasVal := strings.Cut(a, "=")
		switch name {
		case "--api-key", "-H", "--header":
			if hasVal {
				out = append(out, name+"="+quoteArg(redactArg(name, val)))
			} else {
				out = append(out, a)
				redactNext = name
			}
			continue
		}
		if strings.HasPrefix(a, "-H") && len(a) > 2 && !strings.HasPrefix(a, "--") {
			out = append(out, "-H"+quoteArg(redactArg("-H", a[2:])))
			continue
		}
		out = append(out, quoteArg(a))
	}
	return strings.Join(out, " ")
}

func redactArg(flag, v string) string {
	if flag == "--api-key" {
		return plugin.Redacted
	}
	if strings.HasPrefix(strings.TrimSpace(v), "{") {
		for _, k := range jsonKeys(v) {
			if plugin.IsSecretName(k) {
				return plugin.Redacted
			}
		}
		return v
	}
	name, _, _ := strings.Cut(v, ":")
	if plugin.IsSecretName(strings.TrimSpace(name)) {
		return strings.TrimSpace(name) + ":" + plugin.Redacted
	}
	return v
}

// jsonKeys returns the quoted words of a JSON object text (good enough to
// spot a secret header name without parsing a possibly invalid value).
func jsonKeys(s string) []string {
	var keys []string
	for {
		i := strings.IndexByte(s, '"')
		if i < 0 {
			return keys
		}
		s = s[i+1:]
		j := strings.IndexByte(s, '"')
		if j < 0 {
			return keys
		}
		keys = append(keys, s[:j])
		s = s[j+1:]
	}
}

func quoteArg(a string) string {
	if a == "" || strings.ContainsAny(a, " \t\n\"'$`\\;|&<>(){}*?[]#~") {
		return strconv.Quote(a)
	}
	return a
}
