package builtins

import (
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.starlark.net/starlark"
)

// formatBuiltin implements format(value, spec = ""): Python's format()
// with its format-spec mini-language, which Starlark's `%` lacks
// (precision and width):
//
//	format(3.14159, ".2f")    "3.14"
//	format(0.0512, ".1%")     "5.1%"
//	format(1234567, ",")      "1,234,567"
//	format(42, ">6")          "    42"
//	format("ttft", "<12")     "ttft        "
//	format(ms(54.170858))     "54.17ms"       (a duration: its readable text,
//	format(ms(54.170858), ".1")  "54.2ms"      precision = digits after the point)
//
// spec is [[fill]align][sign][#][0][width][,|_][.precision][type] with
// align < > ^ =, sign + - or space, and type one of s d b o x X c e E f F g
// G %. Without a spec, format(v) is str(v).
func formatBuiltin(_ *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var v starlark.Value
	spec := ""
	if err := starlark.UnpackPositionalArgs(fn.Name(), args, kwargs, 1, &v, &spec); err != nil {
		return nil, err
	}
	s, err := formatValue(v, spec)
	if err != nil {
		return nil, fmt.Errorf("format(%s, %q): %v", abbrev(v.String()), spec, err)
	}
	return starlark.String(s), nil
}

// formatSpec is a parsed format specification.
type formatSpec struct {
	fill      rune
	align     byte // 0, '<', '>', '^', '='
	sign      byte // 0, '+', '-', ' '
	alternate bool
	width     int
	grouping  byte // 0, ',', '_'
	precision int  // -1: not given
	typ       byte // 0 or the type letter
}

func parseFormatSpec(spec string) (formatSpec, error) {
	f := formatSpec{fill: ' ', precision: -1}
	rest := spec
	isAlign := func(b byte) bool { return b == '<' || b == '>' || b == '^' || b == '=' }
	if r, size := utf8.DecodeRuneInString(rest); size > 0 && len(rest) > size && isAlign(rest[size]) {
		f.fill, f.align, rest = r, rest[size], rest[size+1:]
	} else if len(rest) > 0 && isAlign(rest[0]) {
		f.align, rest = rest[0], rest[1:]
	}
	if len(rest) > 0 && (rest[0] == '+' || rest[0] == '-' || rest[0] == ' ') {
		f.sign, rest = rest[0], rest[1:]
	}
	if len(rest) > 0 && rest[0] == '#' {
		f.alternate, rest = true, rest[1:]
	}
	if len(rest) > 0 && rest[0] == '0' {
		if f.align == 0 {
			f.fill, f.align = '0', '='
		}
		rest = rest[1:]
	}
	i := 0
	for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
		i++
	}
	if i > 0 {
		w, err := strconv.Atoi(rest[:i])
		if err != nil || w > 1000 {
			return f, fmt.Errorf("width %s is too large", rest[:i])
		}
		f.width, rest = w, rest[i:]
	}
	if len(rest) > 0 && (rest[0] == ',' || rest[0] == '_') {
		f.grouping, rest = rest[0], rest[1:]
	}
	if len(rest) > 0 && rest[0] == '.' {
		j := 1
		for j < len(rest) && rest[j] >= '0' && rest[j] <= '9' {
			j++
		}
		if j == 1 {
			return f, fmt.Errorf("precision: want digits after '.'")
		}
		p, err := strconv.Atoi(rest[1:j])
		if err != nil || p > 100 {
			return f, fmt.Errorf("precision %s is too large", rest[1:j])
		}
		f.precision, rest = p, rest[j:]
	}
	if len(rest) == 1 && strings.IndexByte("sdboxXceEfFgG%", rest[0]) >= 0 {
		f.typ, rest = rest[0], ""
	}
	if rest != "" {
		return f, fmt.Errorf("invalid format spec (want [[fill]align][sign][#][0][width][,][.precision][type], e.g. \".2f\", \">8\", \",d\")")
	}
	return f, nil
}

// formatValue formats v by spec (see formatBuiltin).
func formatValue(v starlark.Value, spec string) (string, error) {
	f, err := parseFormatSpec(spec)
	if err != nil {
		return "", err
	}
	if b, ok := v.(starlark.Bool); ok && f.typ != 0 && f.typ != 's' {
		v = starlark.MakeInt(map[bool]int{false: 0, true: 1}[bool(b)])
	}
	switch x := v.(type) {
	case starlark.Int:
		switch f.typ {
		case 'e', 'E', 'f', 'F', 'g', 'G', '%':
			fl, _ := starlark.AsFloat(x)
			return f.float(fl)
		}
		return f.integer(x.BigInt())
	case starlark.Float:
		switch f.typ {
		case 0, 'e', 'E', 'f', 'F', 'g', 'G', '%':
			return f.float(float64(x))
		}
		return "", fmt.Errorf("format code %q is not for floats (use f, e, g or %%)", f.typ)
	case Duration:
		return f.duration(x)
	}
	if f.typ != 0 && f.typ != 's' {
		return "", fmt.Errorf("format code %q is for numbers, not %s", f.typ, v.Type())
	}
	if f.sign != 0 || f.grouping != 0 || f.alternate || f.align == '=' {
		return "", fmt.Errorf("sign, grouping, '#' and '=' are for numbers, not %s", v.Type())
	}
	s, ok := starlark.AsString(v)
	if !ok {
		s = v.String()
	}
	if f.precision >= 0 && utf8.RuneCountInString(s) > f.precision {
		s = string([]rune(s)[:f.precision])
	}
	return f.pad("", s, '<'), nil
}

// duration formats a duration as readable text; the precision is the
// number of digits after the point in its unit.
func (f formatSpec) duration(d Duration) (string, error) {
	if f.typ != 0 && f.typ != 's' || f.sign != 0 || f.grouping != 0 || f.alternate || f.align == '=' {
		return "", fmt.Errorf("a duration takes width, alignment and precision only; format its number in a unit instead: format(d.ms, \".2f\")")
	}
	s := d.String()
	if f.precision >= 0 {
		s = durationText(d, f.precision)
	}
	return f.pad("", s, '>'), nil
}

// integer formats an int (types d, b, o, x, X, c, or none).
func (f formatSpec) integer(n *big.Int) (string, error) {
	if f.precision >= 0 {
		return "", fmt.Errorf("precision is not allowed for ints (use \".2f\" to show an int as a float)")
	}
	neg := n.Sign() < 0
	abs := new(big.Int).Abs(n)
	var digits, prefix string
	switch f.typ {
	case 0, 'd':
		digits = abs.String()
	case 'b':
		digits, prefix = abs.Text(2), "0b"
	case 'o':
		digits, prefix = abs.Text(8), "0o"
	case 'x':
		digits, prefix = abs.Text(16), "0x"
	case 'X':
		digits, prefix = strings.ToUpper(abs.Text(16)), "0X"
	case 'c':
		if !n.IsInt64() || n.Int64() < 0 || n.Int64() > utf8.MaxRune {
			return "", fmt.Errorf("%%c wants a code point")
		}
		return f.pad("", string(rune(n.Int64())), '<'), nil
	default:
		return "", fmt.Errorf("format code %q is not for ints", f.typ)
	}
	if !f.alternate {
		prefix = ""
	}
	if f.grouping != 0 {
		every := 3
		if f.typ != 0 && f.typ != 'd' {
			every = 4
		}
		digits = group(digits, f.grouping, every)
	}
	return f.pad(f.signOf(neg)+prefix, digits, '>'), nil
}

// float formats a float (types e, E, f, F, g, G, %, or none).
func (f formatSpec) float(x float64) (string, error) {
	neg := math.Signbit(x) && !math.IsNaN(x)
	a := math.Abs(x)
	p := f.precision
	var body string
	switch {
	case math.IsInf(a, 0):
		body = "inf"
	case math.IsNaN(a):
		body = "nan"
	}
	if body == "" {
		switch f.typ {
		case 'f', 'F':
			body = strconv.FormatFloat(a, 'f', orDefault(p, 6), 64)
		case 'e', 'E':
			body = strconv.FormatFloat(a, 'e', orDefault(p, 6), 64)
		case 'g', 'G':
			body = generalFloat(a, max(orDefault(p, 6), 1), f.alternate, false)
		case '%':
			body = strconv.FormatFloat(a*100, 'f', orDefault(p, 6), 64) + "%"
		case 0:
			if p < 0 {
				body = strings.TrimPrefix(starlark.Float(a).String(), "+")
			} else {
				body = generalFloat(a, max(p, 1), false, false)
				if !strings.ContainsAny(body, ".e") {
					body += ".0"
				}
			}
		}
	}
	if f.typ == 'E' || f.typ == 'F' || f.typ == 'G' {
		body = strings.ToUpper(body)
	}
	if f.grouping != 0 && !strings.ContainsAny(body, "en") {
		intPart, frac, _ := strings.Cut(body, ".")
		body = group(intPart, f.grouping, 3)
		if frac != "" || strings.Contains(body, ".") {
			body += "." + frac
		}
	}
	return f.pad(f.signOf(neg), body, '>'), nil
}

// generalFloat is Python's 'g': p significant digits, exponent notation
// when the exponent is < -4 or >= p, trailing zeros removed unless
// alternate; neg prefixes a minus sign.
func generalFloat(a float64, p int, alternate, neg bool) string {
	if neg {
		return "-" + generalFloat(a, p, alternate, false)
	}
	if a == 0 {
		if alternate {
			return "0." + strings.Repeat("0", p-1)
		}
		return "0"
	}
	exp := int(math.Floor(math.Log10(a)))
	// Rounding may carry into the next power of ten (9.99 -> 10.0).
	if r, err := strconv.ParseFloat(strconv.FormatFloat(a, 'e', p-1, 64), 64); err == nil && r != 0 {
		exp = int(math.Floor(math.Log10(r)))
	}
	var s string
	if exp < -4 || exp >= p {
		s = strconv.FormatFloat(a, 'e', p-1, 64)
		if !alternate {
			mant, e, _ := strings.Cut(s, "e")
			if strings.Contains(mant, ".") {
				mant = strings.TrimRight(strings.TrimRight(mant, "0"), ".")
			}
			s = mant + "e" + e
		}
		return s
	}
	s = strconv.FormatFloat(a, 'f', max(p-1-exp, 0), 64)
	switch {
	case alternate && !strings.Contains(s, "."):
		s += "."
	case !alternate && strings.Contains(s, "."):
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}

func orDefault(p, def int) int {
	if p < 0 {
		return def
	}
	return p
}

func (f formatSpec) signOf(neg bool) string {
	switch {
	case neg:
		return "-"
	case f.sign == '+':
		return "+"
	case f.sign == ' ':
		return " "
	}
	return ""
}

// group inserts sep every `every` digits from the right.
func group(digits string, sep byte, every int) string {
	if len(digits) <= every {
		return digits
	}
	var b strings.Builder
	lead := len(digits) % every
	if lead > 0 {
		b.WriteString(digits[:lead])
	}
	for i := lead; i < len(digits); i += every {
		if b.Len() > 0 {
			b.WriteByte(sep)
		}
		b.WriteString(digits[i : i+every])
	}
	return b.String()
}

// pad aligns sign+body in the spec's width; def is the type's default
// alignment.
func (f formatSpec) pad(sign, body string, def byte) string {
	n := utf8.RuneCountInString(sign) + utf8.RuneCountInString(body)
	if n >= f.width {
		return sign + body
	}
	fill := strings.Repeat(string(f.fill), f.width-n)
	align := f.align
	if align == 0 {
		align = def
	}
	switch align {
	case '<':
		return sign + body + fill
	case '^':
		left := (f.width - n) / 2
		return strings.Repeat(string(f.fill), left) + sign + body + strings.Repeat(string(f.fill), f.width-n-left)
	case '=':
		return sign + fill + body
	}
	return fill + sign + body
}
