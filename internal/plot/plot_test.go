package plot_test

import (
	"bytes"
	"encoding/xml"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/loadstar/loadstar/engine/plugin"
	"github.com/loadstar/loadstar/internal/outputs"
	"github.com/loadstar/loadstar/internal/plot"
	"github.com/loadstar/loadstar/internal/resultsdir"
)

const fixtures = "../../testdata/results"

func charts(t *testing.T) ([]plot.Named, *plugin.Registry) {
	t.Helper()
	reg, err := outputs.NewRegistry()
	if err != nil {
		t.Fatal(err)
	}
	cs, err := plot.Charts(reg)
	if err != nil {
		t.Fatal(err)
	}
	return cs, reg
}

func input(t *testing.T, paths ...string) *plot.Input {
	t.Helper()
	var groups []plot.Group
	for _, p := range paths {
		runs, sw, err := resultsdir.Scan(p)
		if err != nil {
			t.Fatal(err)
		}
		groups = append(groups, plot.Group{Name: filepath.Base(p), Runs: runs, Sweep: sw})
	}
	return plot.NewInput(groups...)
}

// svgDoc is what the tests read of an SVG file: every text and the number
// of drawn shapes.
type svgDoc struct {
	texts      []string
	dataShapes int // shapes stroked or filled in a series colour
}

func parseSVG(t *testing.T, path string) svgDoc {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec := xml.NewDecoder(bytes.NewReader(data))
	var doc svgDoc
	inText := false
	root := ""
	for {
		tok, err := dec.Token()
		if err != nil {
			if err.Error() == "EOF" {
				break
			}
			t.Fatalf("%s: not XML: %v", path, err)
		}
		switch e := tok.(type) {
		case xml.StartElement:
			if root == "" {
				root = e.Name.Local
			}
			switch e.Name.Local {
			case "text":
				inText = true
			case "path", "circle", "rect", "polygon", "line", "polyline":
				for _, a := range e.Attr {
					v := strings.ToUpper(a.Value)
					if strings.Contains(v, "#0072B2") || strings.Contains(v, "#E69F00") {
						doc.dataShapes++
						break
					}
				}
			}
		case xml.EndElement:
			if e.Name.Local == "text" {
				inText = false
			}
		case xml.CharData:
			if inText {
				doc.texts = append(doc.texts, strings.TrimSpace(string(e)))
			}
		}
	}
	if root != "svg" {
		t.Fatalf("%s: root element %q, want svg", path, root)
	}
	return doc
}

func (d svgDoc) has(s string) bool {
	for _, x := range d.texts {
		if strings.Contains(x, s) {
			return true
		}
	}
	return false
}

// checkPNG decodes a PNG and checks it has the chart's size and is not
// blank: many distinct colours (data, text, grid).
func checkPNG(t *testing.T, path string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s: not a PNG: %v", path, err)
	}
	b := img.Bounds()
	if b.Dx() < 600 || b.Dy() < 300 {
		t.Errorf("%s: %v too small", path, b)
	}
	if n := dataPixels(img); n < 20 {
		t.Errorf("%s: %d pixels in a series colour: no data drawn", path, n)
	}
}

// seriesColours are the first series colours of the charts (blue, orange).
var seriesColours = [][3]uint8{{0x00, 0x72, 0xB2}, {0xE6, 0x9F, 0x00}}

func dataPixels(img image.Image) int {
	n := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			for _, c := range seriesColours {
				if uint8(r>>8) == c[0] && uint8(g>>8) == c[1] && uint8(bl>>8) == c[2] {
					n++
				}
			}
		}
	}
	return n
}

// checkSet writes the chart set of in and checks each file: valid PNG and
// SVG, the manifest's title, units on the axes, and drawn data.
func checkSet(t *testing.T, in *plot.Input, want []string, reg *plugin.Registry, cs []plot.Named) {
	t.Helper()
	dir := t.TempDir()
	got, err := plot.Write(in, cs, dir, plot.PNG, plot.SVG)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range got {
		names = append(names, r.Name)
	}
	if strings.Join(names, " ") != strings.Join(want, " ") {
		t.Errorf("charts\n got %v\nwant %v", names, want)
	}
	empty := parseSVG(t, writeEmpty(t, dir))
	for _, r := range got {
		md, err := reg.PlotMetadata(r.Name)
		if err != nil {
			t.Fatal(err)
		}
		if r.Title != md.DisplayName {
			t.Errorf("%s: title %q, manifest display_name %q", r.Name, r.Title, md.DisplayName)
		}
		checkPNG(t, filepath.Join(dir, r.Name+".png"))
		doc := parseSVG(t, filepath.Join(dir, r.Name+".svg"))
		if !doc.has(md.DisplayName) {
			t.Errorf("%s.svg: no title %q in %q", r.Name, md.DisplayName, doc.texts)
		}
		if !doc.has("(") && !doc.has("Requests") {
			t.Errorf("%s.svg: no unit on the axes: %q", r.Name, doc.texts)
		}
		if doc.dataShapes == 0 || empty.dataShapes != 0 {
			t.Errorf("%s.svg: %d shapes in a series colour (empty chart: %d): no data drawn", r.Name, doc.dataShapes, empty.dataShapes)
		}
	}
}

// writeEmpty writes a chart with axes and a title but no data.
func writeEmpty(t *testing.T, dir string) string {
	t.Helper()
	p := plot.Blank("empty", "x (s)", "y (ms)")
	data, err := plot.Encode(p, plot.SVG)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "empty.svg")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestSingleRunChartSet(t *testing.T) {
	cs, reg := charts(t)
	want := []string{"ttft_over_time", "itl_over_time", "latency_over_time", "dispersed_throughput_over_time",
		"concurrency_over_time", "ttft_histogram", "itl_histogram", "latency_histogram",
		"timeslices_ttft", "timeslices_itl", "timeslices_throughput", "timeslices_latency"}
	checkSet(t, input(t, filepath.Join(fixtures, "run")), want, reg, cs)
}

func TestSweepChartSet(t *testing.T) {
	cs, reg := charts(t)
	want := []string{"ttft_vs_throughput", "latency_vs_load", "goodput_vs_rate",
		"pareto_curve_throughput_vs_interactivity", "pareto_curve_throughput_vs_latency"}
	checkSet(t, input(t, filepath.Join(fixtures, "sweep")), want, reg, cs)
	// Two sweeps: one series each.
	checkSet(t, input(t, filepath.Join(fixtures, "sweep"), filepath.Join(fixtures, "trials")), want, reg, cs)
}

// A run without time slices or streaming gets the charts it has data for.
func TestChartsWithoutDataAreSkipped(t *testing.T) {
	cs, _ := charts(t)
	got, err := plot.Draw(input(t, "../resultsdir/testdata/aiperf15"), cs)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range got {
		names = append(names, r.Name)
	}
	want := "ttft_over_time latency_over_time dispersed_throughput_over_time concurrency_over_time ttft_histogram latency_histogram"
	if strings.Join(names, " ") != want {
		t.Errorf("charts %v, want %s", names, want)
	}
}

func TestParseFormats(t *testing.T) {
	if f, err := plot.ParseFormats("png, SVG"); err != nil || len(f) != 2 {
		t.Errorf("%v %v", f, err)
	}
	if _, err := plot.ParseFormats("jpeg"); err == nil || !strings.Contains(err.Error(), "expected png or svg") {
		t.Errorf("jpeg: %v", err)
	}
}

// docs/results.md lists every chart by its plugin name.
func TestEveryChartIsDocumented(t *testing.T) {
	doc, err := os.ReadFile("../../docs/results.md")
	if err != nil {
		t.Fatal(err)
	}
	cs, _ := charts(t)
	for _, c := range cs {
		if !strings.Contains(string(doc), "`"+c.Name+"`") {
			t.Errorf("docs/results.md does not list the chart %s", c.Name)
		}
	}
}
