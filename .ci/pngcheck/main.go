// Command pngcheck exits non-zero unless each PNG argument decodes and is
// not blank: a screenshot of a page that drew nothing is one colour.
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
	for y := b.Min.Y; y < b.Max.Y; y += 3 {
		for x := b.Min.X; x < b.Max.X; x += 3 {
			r, g, bl, _ := img.At(x, y).RGBA()
			colours[(r>>11)<<10|(g>>11)<<5|bl>>11] = true
		}
	}
	if len(colours) < 20 {
		return fmt.Errorf("blank screenshot (%d colours in %v)", len(colours), b)
	}
	fmt.Printf("%s: %dx%d, %d colours\n", path, b.Dx(), b.Dy(), len(colours))
	return nil
}
