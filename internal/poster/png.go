package poster

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"sync"

	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"
)

// fonts holds the parsed Go fonts and their faces by size, shared by
// every rendering (a face is not safe for concurrent use, so faces are
// made per rendering from the parsed fonts).
var fonts = sync.OnceValues(func() ([2]*opentype.Font, error) {
	var out [2]*opentype.Font
	for i, ttf := range [][]byte{goregular.TTF, gobold.TTF} {
		f, err := opentype.Parse(ttf)
		if err != nil {
			return out, fmt.Errorf("parse Go font: %w", err)
		}
		out[i] = f
	}
	return out, nil
})

// px turns millimetres into pixels at PNGDPI.
func px(mm float64) int { return int(mm*PNGDPI/25.4 + 0.5) }

// PNG renders the poster as an A5 image at PNGDPI.
func PNG(p Poster) ([]byte, error) {
	mods, err := qrModules(p.JoinURL)
	if err != nil {
		return nil, err
	}
	fs, err := fonts()
	if err != nil {
		return nil, err
	}
	faces := map[[2]float64]font.Face{}
	defer func() {
		for _, f := range faces {
			f.Close()
		}
	}()
	face := func(size float64, bold bool) (font.Face, error) {
		k := [2]float64{size, 0}
		if bold {
			k[1] = 1
		}
		if f, ok := faces[k]; ok {
			return f, nil
		}
		f, err := opentype.NewFace(fs[int(k[1])], &opentype.FaceOptions{Size: size, DPI: PNGDPI, Hinting: font.HintingFull})
		if err != nil {
			return nil, fmt.Errorf("font face: %w", err)
		}
		faces[k] = f
		return f, nil
	}
	var faceErr error
	width := func(s string, size float64, bold bool) float64 {
		f, err := face(size, bold)
		if err != nil {
			faceErr = err
			return 0
		}
		return float64(font.MeasureString(f, s)) / 64 * 25.4 / PNGDPI
	}
	lines := layout(p, width)
	if faceErr != nil {
		return nil, faceErr
	}

	bg, fg := rgb(p.BackgroundColor, color.RGBA{0x1f, 0x29, 0x37, 0xff}), rgb(p.ForegroundColor, color.RGBA{0xff, 0xff, 0xff, 0xff})
	img := image.NewRGBA(image.Rect(0, 0, px(pageW), px(pageH)))
	draw.Draw(img, img.Bounds(), image.NewUniform(bg), image.Point{}, draw.Src)
	left, top := px((pageW-qrPanel)/2), px(qrTop)
	panel := image.Rect(left, top, left+px(qrPanel), top+px(qrPanel))
	drawRounded(img, panel, px(5), color.RGBA{0xff, 0xff, 0xff, 0xff})
	// The QR code at a whole number of pixels per module, centred, so
	// every module is sharp.
	side := px(qrPanel - 2*qrPad)
	scale := max(side/len(mods), 1)
	qr := qrImage(mods, scale)
	at := image.Pt(panel.Min.X+(panel.Dx()-qr.Bounds().Dx())/2, panel.Min.Y+(panel.Dy()-qr.Bounds().Dy())/2)
	draw.Draw(img, qr.Bounds().Add(at), qr, image.Point{}, draw.Src)

	for _, l := range lines {
		f, err := face(l.size, l.bold)
		if err != nil {
			return nil, err
		}
		c := fg
		if l.faded {
			c = mix(fg, bg, 0.8)
		}
		w := font.MeasureString(f, l.text)
		d := font.Drawer{Dst: img, Src: image.NewUniform(c), Face: f,
			Dot: fixed.Point26_6{X: (fixed.I(img.Bounds().Dx()) - w) / 2, Y: fixed.I(px(l.y))}}
		d.DrawString(l.text)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("encode poster PNG: %w", err)
	}
	return buf.Bytes(), nil
}

// drawRounded fills r with c, its corners rounded to radius.
func drawRounded(img *image.RGBA, r image.Rectangle, radius int, c color.RGBA) {
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			dx := max(r.Min.X+radius-x-1, x-(r.Max.X-radius), 0)
			dy := max(r.Min.Y+radius-y-1, y-(r.Max.Y-radius), 0)
			if dx*dx+dy*dy <= radius*radius {
				img.SetRGBA(x, y, c)
			}
		}
	}
}
