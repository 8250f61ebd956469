package console

import (
	"io"
	"strings"
	"unicode/utf8"
)

// ANSI styles used when colour is on.
const (
	ansiReset  = "\x1b[0m"
	ansiBold   = "\x1b[1m"
	ansiDim    = "\x1b[2m"
	ansiItalic = "\x1b[3m"
	ansiRed    = "\x1b[31m"
	ansiGreen  = "\x1b[32m"
	ansiYellow = "\x1b[33m"
	ansiCyan   = "\x1b[36m"
)

// cell is one table cell: text (possibly several lines) and its style.
type cell struct {
	text  string
	style string
}

// table renders like Rich's default table (box.HEAVY_HEAD) that AIPerf
// prints: a centred italic title, a heavy header rule, cells padded by one
// space, right-justified unless a column says otherwise.
type table struct {
	title      string
	titleStyle string
	headers    []string
	left       []bool // left-justified columns
	rows       [][]cell
}

func (t *table) add(cells ...cell) { t.rows = append(t.rows, cells) }

func width(s string) int { return utf8.RuneCountInString(s) }

func paint(s, style string, color bool) string {
	if !color || style == "" || s == "" {
		return s
	}
	return style + s + ansiReset
}

func (t *table) render(w io.Writer, color bool) {
	n := len(t.headers)
	widths := make([]int, n)
	for i, h := range t.headers {
		widths[i] = width(h)
	}
	for _, r := range t.rows {
		for i, c := range r {
			for _, line := range strings.Split(c.text, "\n") {
				widths[i] = max(widths[i], width(line))
			}
		}
	}
	rule := func(l, mid, r, fill string) string {
		var b strings.Builder
		b.WriteString(l)
		for i, wd := range widths {
			if i > 0 {
				b.WriteString(mid)
			}
			b.WriteString(strings.Repeat(fill, wd+2))
		}
		b.WriteString(r)
		return b.String()
	}
	total := 1
	for _, wd := range widths {
		total += wd + 3
	}
	var out strings.Builder
	if t.title != "" {
		pad := max((total-width(t.title))/2, 0)
		out.WriteString(strings.Repeat(" ", pad))
		out.WriteString(paint(t.title, ansiItalic+t.titleStyle, color))
		out.WriteByte('\n')
	}
	line := func(sep string, texts []string, styles []string, header bool) {
		out.WriteString(sep)
		for i, wd := range widths {
			txt := texts[i]
			padding := strings.Repeat(" ", wd-width(txt))
			st := styles[i]
			if header {
				st = ansiBold
			}
			out.WriteByte(' ')
			if t.left[i] {
				out.WriteString(paint(txt, st, color) + padding)
			} else {
				out.WriteString(padding + paint(txt, st, color))
			}
			out.WriteByte(' ')
			out.WriteString(sep)
		}
		out.WriteByte('\n')
	}
	out.WriteString(rule("┏", "┳", "┓", "━") + "\n")
	line("┃", t.headers, make([]string, n), true)
	out.WriteString(rule("┡", "╇", "┩", "━") + "\n")
	for _, r := range t.rows {
		lines := 1
		split := make([][]string, n)
		for i, c := range r {
			split[i] = strings.Split(c.text, "\n")
			lines = max(lines, len(split[i]))
		}
		for k := 0; k < lines; k++ {
			texts := make([]string, n)
			styles := make([]string, n)
			for i := range r {
				if k < len(split[i]) {
					texts[i] = split[i][k]
				}
				styles[i] = r[i].style
			}
			line("│", texts, styles, false)
		}
	}
	out.WriteString(rule("└", "┴", "┘", "─") + "\n")
	_, _ = io.WriteString(w, out.String())
}
