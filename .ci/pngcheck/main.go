// Command pngcheck exits non-zero unless each PNG argument decodes, is not
// blank (a screenshot of a page that drew nothing is one colour) and shows
// charts: at least 500 pixels in the charts' first series colour (#0072B2).
package main

import (
	"fmt"
	"image/png"
	"os"
)

func main() {
	for _, path := range os.Args[1:] {
		if err := check(path); err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n", path, err)
			os.Exit(1)
		}
	}
}

func check(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		return fmt.Errorf("not a PNG: %w", err)
	}
	b := img.Bounds()
	colours := map[uint32]bool{}
	series := 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			colours[(r>>11)<<10|(g>>11)<<5|bl>>11] = true
			if near(r>>8, 0x00) && near(g>>8, 0x72) && near(bl>>8, 0xB2) {
				series++
			}
		}
	}
	if len(colours) < 20 {
		return fmt.Errorf("blank screenshot (%d colours in %v)", len(colours), b)
	}
	if series < 500 {
		return fmt.Errorf("no charts: %d pixels in the series colour #0072B2", series)
	}
	fmt.Printf("%s: %dx%d, %d colours, %d chart-blue pixels\n", path, b.Dx(), b.Dy(), len(colours), series)
	return nil
}

func near(a, b uint32) bool { return a+6 >= b && a <= b+6 }
