package plot

import (
	"image/color"
	"math"
	"sort"

	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Colours of the series, in order (colour-blind safe: Okabe–Ito).
var palette = []color.Color{
	color.RGBA{0x00, 0x72, 0xB2, 0xff}, // blue
	color.RGBA{0xE6, 0x9F, 0x00, 0xff}, // orange
	color.RGBA{0x00, 0x9E, 0x73, 0xff}, // green
	color.RGBA{0xCC, 0x79, 0xA7, 0xff}, // purple
	color.RGBA{0x56, 0xB4, 0xE9, 0xff}, // sky
	color.RGBA{0xD5, 0x5E, 0x00, 0xff}, // vermillion
	color.RGBA{0xF0, 0xE4, 0x42, 0xff}, // yellow
}

// errorColor marks failed requests.
var errorColor = color.RGBA{0xC0, 0x1C, 0x28, 0xff}

func colorOf(i int) color.Color { return palette[i%len(palette)] }

// newPlot returns a chart with a title, axis labels (with units), a grid and
// sans-serif text.
func newPlot(title, xLabel, yLabel string) *gplot.Plot {
	p := gplot.New()
	p.Title.Text = title
	p.X.Label.Text = xLabel
	p.Y.Label.Text = yLabel
	sans := func(size vg.Length) font.Font {
		return font.Font{Typeface: "Liberation", Variant: "Sans", Size: size}
	}
	p.Title.TextStyle.Font = sans(15)
	p.Title.Padding = vg.Points(8)
	for _, ax := range []*gplot.Axis{&p.X, &p.Y} {
		ax.Label.TextStyle.Font = sans(12)
		ax.Tick.Label.Font = sans(10)
		ax.Padding = vg.Points(4)
	}
	p.Legend.TextStyle.Font = sans(10)
	p.Legend.Top = true
	p.Legend.Padding = vg.Points(2)
	grid := plotter.NewGrid()
	grid.Vertical.Color = color.Gray{0xe0}
	grid.Horizontal.Color = color.Gray{0xe0}
	p.Add(grid)
	return p
}

// scatter returns a scatter of small filled dots.
func scatter(xys plotter.XYs, c color.Color, shape draw.GlyphDrawer, radius vg.Length) (*plotter.Scatter, error) {
	s, err := plotter.NewScatter(xys)
	if err != nil {
		return nil, err
	}
	s.GlyphStyle.Color = c
	s.GlyphStyle.Shape = shape
	s.GlyphStyle.Radius = radius
	return s, nil
}

// line returns a line of width w.
func line(xys plotter.XYs, c color.Color, w vg.Length, dashes ...vg.Length) (*plotter.Line, error) {
	l, err := plotter.NewLine(xys)
	if err != nil {
		return nil, err
	}
	l.Color = c
	l.Width = w
	l.Dashes = dashes
	return l, nil
}

// maxPoints bounds the points of a scatter: beyond it every k-th request
// is drawn (the same k for all series), so that files stay small.
const maxPoints = 20000

func stride(n int) int {
	if n <= maxPoints {
		return 1
	}
	return (n + maxPoints - 1) / maxPoints
}

// percentile is numpy's linear interpolation over sorted values.
func percentile(sorted []float64, q float64) float64 {
	n := len(sorted)
	if n == 0 {
		return math.NaN()
	}
	v := q / 100 * float64(n-1)
	lo := int(math.Floor(v))
	hi := min(lo+1, n-1)
	return sorted[lo] + (v-float64(lo))*(sorted[hi]-sorted[lo])
}

func sortedCopy(xs []float64) []float64 {
	out := append([]float64(nil), xs...)
	sort.Float64s(out)
	return out
}

func finite(xs []float64) []float64 {
	out := xs[:0:0]
	for _, x := range xs {
		if !math.IsNaN(x) && !math.IsInf(x, 0) {
			out = append(out, x)
		}
	}
	return out
}

func withAlpha(c color.Color, a uint8) color.Color {
	r, g, b, _ := c.RGBA()
	// premultiplied
	return color.RGBA{uint8(r >> 8 * uint32(a) / 0xff), uint8(g >> 8 * uint32(a) / 0xff), uint8(b >> 8 * uint32(a) / 0xff), a}
}

// Blank returns an empty chart in loadstar's style (for tests and for
// charts built outside this package).
func Blank(title, xLabel, yLabel string) *gplot.Plot { return newPlot(title, xLabel, yLabel) }
