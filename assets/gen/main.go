//go:build ignore

// Command gen draws the default Apple Wallet images of a store card into
// assets/images: a star badge for icon and logo and a translucent strip, each
// at @1x, @2x and @3x. It is deterministic, so a rerun leaves the committed
// files unchanged unless the drawing changes.
//
// Run it from the assets directory with `go generate` (see assets.go) or
// `go run gen/main.go -out images`.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"math"
	"os"
	"path/filepath"

	"golang.org/x/image/vector"
)

// Sizes in points from Apple's Human Interface Guidelines, "Wallet ›
// Specifications › Pass image dimensions" (2025): icon 38×38, logo up to
// 160×50, store card strip 375×144.
const (
	iconPt        = 38
	logoPt        = 50 // a square badge; the logo box is 160×50, narrower is fine
	stripWidthPt  = 375
	stripHeightPt = 144
)

var (
	badgeTop    = color.NRGBA{0x63, 0x66, 0xF1, 0xFF} // indigo 500
	badgeBottom = color.NRGBA{0x43, 0x38, 0xCA, 0xFF} // indigo 700
	starColor   = color.NRGBA{0xFF, 0xFF, 0xFF, 0xFF}
)

func main() {
	out := flag.String("out", "images", "directory to write the PNG files to")
	flag.Parse()
	if err := run(*out); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for scale := 1; scale <= 3; scale++ {
		suffix := ""
		if scale > 1 {
			suffix = fmt.Sprintf("@%dx", scale)
		}
		images := map[string]image.Image{
			"icon" + suffix + ".png":  badge(iconPt*scale, iconPt*scale, 1),
			"logo" + suffix + ".png":  badge(logoPt*scale, logoPt*scale, 0.8),
			"strip" + suffix + ".png": strip(stripWidthPt*scale, stripHeightPt*scale),
		}
		for name, img := range images {
			if err := writePNG(filepath.Join(dir, name), img); err != nil {
				return err
			}
		}
	}
	return nil
}

// badge draws a rounded square filling fill×side of a w×h canvas, with a
// vertical indigo gradient and a white five-pointed star in its middle.
func badge(w, h int, fill float64) image.Image {
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	side := fill * float64(min(w, h))
	x0 := (float64(w) - side) / 2
	y0 := (float64(h) - side) / 2

	z := vector.NewRasterizer(w, h)
	z.DrawOp = draw.Over
	roundedRect(z, x0, y0, side, side, side*0.225)
	z.Draw(dst, dst.Bounds(), verticalGradient(h, y0, side, badgeTop, badgeBottom), image.Point{})

	z.Reset(w, h)
	z.DrawOp = draw.Over
	star(z, x0+side/2, y0+side*0.52, side*0.34, 5)
	z.Draw(dst, dst.Bounds(), image.NewUniform(starColor), image.Point{})
	return dst
}

// strip draws a translucent white wash that fades from the top left to the
// bottom right, with a few faint stars on the right. Being mostly
// transparent, it takes the colour of whatever backgroundColor the program
// chose instead of fighting it.
func strip(w, h int) image.Image {
	dst := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			t := (float64(x)/float64(w) + float64(y)/float64(h)) / 2 // 0 top left, 1 bottom right
			a := 0.20*(1-t) + 0.03*t
			dst.SetNRGBA(x, y, color.NRGBA{0xFF, 0xFF, 0xFF, uint8(math.Round(a * 255))})
		}
	}
	faint := image.NewUniform(color.NRGBA{0xFF, 0xFF, 0xFF, 0x1C})
	unit := float64(h) // stars scale with the strip's height
	stars := []struct{ x, y, r float64 }{
		{float64(w) - 0.62*unit, 0.46 * unit, 0.36 * unit},
		{float64(w) - 1.18*unit, 0.70 * unit, 0.16 * unit},
		{float64(w) - 0.20*unit, 0.86 * unit, 0.10 * unit},
	}
	z := vector.NewRasterizer(w, h)
	for _, s := range stars {
		z.Reset(w, h)
		z.DrawOp = draw.Over
		star(z, s.x, s.y, s.r, 5)
		z.Draw(dst, dst.Bounds(), faint, image.Point{})
	}
	return dst
}

// roundedRect adds a rectangle with corner radius r to the path.
func roundedRect(z *vector.Rasterizer, x, y, w, h, r float64) {
	// k places cubic control points so each corner approximates a quarter circle.
	const k = 0.5523
	f := func(v float64) float32 { return float32(v) }
	z.MoveTo(f(x+r), f(y))
	z.LineTo(f(x+w-r), f(y))
	z.CubeTo(f(x+w-r+k*r), f(y), f(x+w), f(y+r-k*r), f(x+w), f(y+r))
	z.LineTo(f(x+w), f(y+h-r))
	z.CubeTo(f(x+w), f(y+h-r+k*r), f(x+w-r+k*r), f(y+h), f(x+w-r), f(y+h))
	z.LineTo(f(x+r), f(y+h))
	z.CubeTo(f(x+r-k*r), f(y+h), f(x), f(y+h-r+k*r), f(x), f(y+h-r))
	z.LineTo(f(x), f(y+r))
	z.CubeTo(f(x), f(y+r-k*r), f(x+r-k*r), f(y), f(x+r), f(y))
	z.ClosePath()
}

// star adds an n-pointed star centred on (cx, cy) with outer radius r,
// one point straight up.
func star(z *vector.Rasterizer, cx, cy, r float64, n int) {
	inner := r * 0.42
	for i := 0; i < 2*n; i++ {
		rad := r
		if i%2 == 1 {
			rad = inner
		}
		angle := -math.Pi/2 + float64(i)*math.Pi/float64(n)
		x := float32(cx + rad*math.Cos(angle))
		y := float32(cy + rad*math.Sin(angle))
		if i == 0 {
			z.MoveTo(x, y)
		} else {
			z.LineTo(x, y)
		}
	}
	z.ClosePath()
}

// verticalGradient returns an h-pixel-high image that goes from top to
// bottom between y0 and y0+span.
func verticalGradient(h int, y0, span float64, top, bottom color.NRGBA) image.Image {
	g := image.NewNRGBA(image.Rect(0, 0, 1, h))
	for y := 0; y < h; y++ {
		t := math.Min(1, math.Max(0, (float64(y)+0.5-y0)/span))
		mix := func(a, b uint8) uint8 { return uint8(math.Round(float64(a)*(1-t) + float64(b)*t)) }
		g.SetNRGBA(0, y, color.NRGBA{mix(top.R, bottom.R), mix(top.G, bottom.G), mix(top.B, bottom.B), 0xFF})
	}
	return &rowRepeat{g}
}

// rowRepeat repeats a one-pixel-wide image horizontally without bound.
type rowRepeat struct{ col *image.NRGBA }

func (r *rowRepeat) ColorModel() color.Model { return color.NRGBAModel }
func (r *rowRepeat) Bounds() image.Rectangle {
	b := r.col.Bounds()
	return image.Rect(-1<<20, b.Min.Y, 1<<20, b.Max.Y)
}
func (r *rowRepeat) At(_, y int) color.Color { return r.col.At(0, y) }

func writePNG(path string, img image.Image) error {
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	if err := enc.Encode(&buf, img); err != nil {
		return fmt.Errorf("encode %s: %w", path, err)
	}
	return os.WriteFile(path, buf.Bytes(), 0o644)
}
