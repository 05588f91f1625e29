// Package poster draws a program's printable join poster, A5 portrait, as
// a PDF (vector text in the Go fonts, which cover Cyrillic, and the QR
// code as a lossless image) and as a PNG: the program's name and colours,
// a large QR code of the join URL, the offer, the URL written out, and one
// line of terms. Both are drawn from one layout in millimetres.
package poster

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"strconv"
	"strings"
	"time"

	"codeberg.org/go-pdf/fpdf"
	qrcode "github.com/skip2/go-qrcode"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/goregular"
)

// Poster is what goes on a poster; texts are already in its language.
type Poster struct {
	OrganizationName, ProgramName string
	// JoinURL is encoded in the QR code and written under it.
	JoinURL string
	// BackgroundColor and ForegroundColor are "#rrggbb"; others fall back.
	BackgroundColor, ForegroundColor string
	// Headline says what to do ("Scan to get the card"); Offer what it
	// brings ("Welcome bonus: 100 points", or ""); Terms one line of the
	// program's terms, cut to fit.
	Headline, Offer, Terms string
}

// The page, A5 portrait, in millimetres.
const (
	pageW, pageH = 148.0, 210.0
	margin       = 12.0
	qrPanel      = 100.0 // the white square behind the QR code
	qrPad        = 6.0
	qrTop        = 64.0
)

// PNGDPI is the resolution of the PNG: 874 × 1240 pixels for A5.
const PNGDPI = 150

// line is one line of text on the page.
type line struct {
	text   string
	y      float64 // baseline, mm from the top
	size   float64 // points
	bold   bool
	faded  bool // drawn at 80 % of the foreground
	onDark bool // on the background (else on white)
}

// layout places the poster's lines; width measures a text in mm at a
// size and weight, so each renderer wraps and cuts with its own metrics.
func layout(p Poster, width func(s string, size float64, bold bool) float64) []line {
	avail := pageW - 2*margin
	var lines []line
	if p.OrganizationName != "" && p.OrganizationName != p.ProgramName {
		lines = append(lines, line{text: cut(strings.ToUpper(p.OrganizationName), avail, 10, false, width), y: 20, size: 10, faded: true, onDark: true})
	}
	name := wrap(p.ProgramName, avail, 24, true, width, 2)
	for i, l := range name {
		lines = append(lines, line{text: l, y: 32 + float64(i)*10, size: 24, bold: true, onDark: true})
	}
	lines = append(lines, line{text: cut(p.Headline, avail, 15, true, width), y: 57, size: 15, bold: true, onDark: true})
	y := qrTop + qrPanel + 11
	if p.Offer != "" {
		lines = append(lines, line{text: cut(p.Offer, avail, 14, true, width), y: y, size: 14, bold: true, onDark: true})
		y += 9
	}
	lines = append(lines, line{text: cut(p.JoinURL, avail, 10, false, width), y: y, size: 10, onDark: true})
	if p.Terms != "" {
		lines = append(lines, line{text: cut(p.Terms, avail, 8, false, width), y: pageH - 10, size: 8, faded: true, onDark: true})
	}
	return lines
}

// wrap breaks s into at most n lines of avail mm, the last one cut.
func wrap(s string, avail, size float64, bold bool, width func(string, float64, bool) float64, n int) []string {
	words := strings.Fields(s)
	var out []string
	cur := ""
	for i, w := range words {
		next := strings.TrimSpace(cur + " " + w)
		if cur != "" && width(next, size, bold) > avail {
			if len(out) == n-1 {
				return append(out, cut(strings.Join(words[i-len(strings.Fields(cur)):], " "), avail, size, bold, width))
			}
			out, cur = append(out, cur), w
			continue
		}
		cur = next
	}
	if cur != "" {
		out = append(out, cut(cur, avail, size, bold, width))
	}
	return out
}

// cut shortens s with an ellipsis until it fits avail mm.
func cut(s string, avail, size float64, bold bool, width func(string, float64, bool) float64) string {
	s = strings.Join(strings.Fields(s), " ")
	if width(s, size, bold) <= avail {
		return s
	}
	r := []rune(s)
	for len(r) > 0 && width(string(r)+"…", size, bold) > avail {
		r = r[:len(r)-1]
	}
	return strings.TrimSpace(string(r)) + "…"
}

// qrModules is the QR code of url with its quiet zone, true for dark.
func qrModules(url string) ([][]bool, error) {
	q, err := qrcode.New(url, qrcode.Medium)
	if err != nil {
		return nil, fmt.Errorf("encode join URL as QR: %w", err)
	}
	return q.Bitmap(), nil
}

// qrImage draws the modules scale pixels each, black on white.
func qrImage(mods [][]bool, scale int) *image.Gray {
	n := len(mods)
	img := image.NewGray(image.Rect(0, 0, n*scale, n*scale))
	for y := range n * scale {
		for x := range n * scale {
			v := uint8(255)
			if mods[y/scale][x/scale] {
				v = 0
			}
			img.Pix[y*img.Stride+x] = v
		}
	}
	return img
}

// PDF renders the poster as a one-page A5 PDF.
func PDF(p Poster) ([]byte, error) {
	mods, err := qrModules(p.JoinURL)
	if err != nil {
		return nil, err
	}
	bg, fg := rgb(p.BackgroundColor, color.RGBA{0x1f, 0x29, 0x37, 0xff}), rgb(p.ForegroundColor, color.RGBA{0xff, 0xff, 0xff, 0xff})
	pdf := fpdf.NewCustom(&fpdf.InitType{OrientationStr: "P", UnitStr: "mm", Size: fpdf.SizeType{Wd: pageW, Ht: pageH}})
	// The poster says nothing of when it was drawn.
	pdf.SetCreationDate(time.Unix(0, 0).UTC())
	pdf.SetModificationDate(time.Unix(0, 0).UTC())
	pdf.SetTitle(p.ProgramName, true)
	pdf.SetCreator("loyalpass", true)
	pdf.SetAutoPageBreak(false, 0)
	pdf.AddUTF8FontFromBytes("go", "", goregular.TTF)
	pdf.AddUTF8FontFromBytes("go", "B", gobold.TTF)
	pdf.AddPage()
	pdf.SetFillColor(int(bg.R), int(bg.G), int(bg.B))
	pdf.Rect(0, 0, pageW, pageH, "F")
	pdf.SetFillColor(255, 255, 255)
	left := (pageW - qrPanel) / 2
	pdf.RoundedRect(left, qrTop, qrPanel, qrPanel, 5, "1234", "F")
	var buf bytes.Buffer
	if err := png.Encode(&buf, qrImage(mods, 8)); err != nil {
		return nil, err
	}
	pdf.RegisterImageOptionsReader("qr", fpdf.ImageOptions{ImageType: "PNG"}, &buf)
	side := qrPanel - 2*qrPad
	pdf.ImageOptions("qr", left+qrPad, qrTop+qrPad, side, side, false, fpdf.ImageOptions{ImageType: "PNG"}, 0, p.JoinURL)
	width := func(s string, size float64, bold bool) float64 {
		pdf.SetFont("go", style(bold), size)
		return pdf.GetStringWidth(s)
	}
	for _, l := range layout(p, width) {
		c := fg
		if l.faded {
			c = mix(fg, bg, 0.8)
		}
		pdf.SetTextColor(int(c.R), int(c.G), int(c.B))
		pdf.SetFont("go", style(l.bold), l.size)
		w := pdf.GetStringWidth(l.text)
		pdf.Text((pageW-w)/2, l.y, l.text)
	}
	if err := pdf.Error(); err != nil {
		return nil, fmt.Errorf("draw poster PDF: %w", err)
	}
	var out bytes.Buffer
	if err := pdf.Output(&out); err != nil {
		return nil, fmt.Errorf("write poster PDF: %w", err)
	}
	return out.Bytes(), nil
}

func style(bold bool) string {
	if bold {
		return "B"
	}
	return ""
}

// rgb parses "#rrggbb", else def.
func rgb(s string, def color.RGBA) color.RGBA {
	if len(s) != 7 || s[0] != '#' {
		return def
	}
	v, err := strconv.ParseUint(s[1:], 16, 32)
	if err != nil {
		return def
	}
	return color.RGBA{uint8(v >> 16), uint8(v >> 8), uint8(v), 0xff}
}

// mix returns a·share + b·(1-share).
func mix(a, b color.RGBA, share float64) color.RGBA {
	m := func(x, y uint8) uint8 { return uint8(float64(x)*share + float64(y)*(1-share) + 0.5) }
	return color.RGBA{m(a.R, b.R), m(a.G, b.G), m(a.B, b.B), 0xff}
}
