package console

import (
	"fmt"
	"hash/fnv"
	"html"
	"html/template"
	"math"
	"strings"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/oned"
	qrcode "github.com/skip2/go-qrcode"
	"google.golang.org/api/walletobjects/v1"

	"github.com/loyalpass/loyalpass/passes"
)

// The card designer's drawings: the Apple Wallet store card and the
// Google Wallet loyalty card as SVG, from what the pass and the Google
// object carry (passes.Layout; the class and object that passes/google
// builds). Images come from the console's own image route, so the page
// needs no other origin; colours and sizes are attributes, not styles,
// so the strict policy holds.

// cardArt is where the drawings find a program's images, and the
// logo's and strip's shapes (width over height), read from the PNGs.
type cardArt struct {
	Logo, Strip, Icon string
	LogoAspect        float64
}

// Card geometry, in SVG units (about a phone's points).
const (
	cardW      = 340
	stripH     = 130 // 375 × 144 scaled to the card's width
	appleTop   = 58  // the logo row
	logoBoxW   = 150
	logoBoxH   = 34
	fieldsH    = 50
	googleTopH = 190
)

// svgText is one text element.
func svgText(b *strings.Builder, x, y float64, size int, fill, anchor, weight, text string) {
	fmt.Fprintf(b, `<text x="%.1f" y="%.1f" font-size="%d" fill="%s"`, x, y, size, html.EscapeString(fill))
	if anchor != "" {
		fmt.Fprintf(b, ` text-anchor="%s"`, anchor)
	}
	if weight != "" {
		fmt.Fprintf(b, ` font-weight="%s"`, weight)
	}
	fmt.Fprintf(b, `>%s</text>`, html.EscapeString(text))
}

// svgFitted writes text at size, smaller (down to least) where it would
// not fit width, and shortened only if even least does not.
func svgFitted(b *strings.Builder, x, y float64, size, least int, width float64, fill, anchor, weight, text string) {
	for size > least && textWidthAt(text, size) > width {
		size--
	}
	svgText(b, x, y, size, fill, anchor, weight, fit(text, width, size))
}

// fit shortens s to about width units at size, with an ellipsis.
func fit(s string, width float64, size int) string {
	r := []rune(s)
	max := int(width / (float64(size) * 0.58))
	if len(r) <= max || max < 2 {
		return s
	}
	return string(r[:max-1]) + "…"
}

// appleCardSVG draws a store card as Wallet lays it out: logo and logo
// text with the header fields, the strip with the primary field over
// it, the secondary and auxiliary fields in one row, the barcode.
func appleCardSVG(l passes.Layout, art cardArt, title string) template.HTML {
	var b strings.Builder
	fieldsY := float64(appleTop + stripH + 12)
	codeY := fieldsY + fieldsH + 8
	codeW, codeH := codeBox(l.Barcode.Format)
	height := codeY + codeH + 30 + 16
	fmt.Fprintf(&b, `<svg class="card-art" id="apple-card" viewBox="0 0 %d %.0f" role="img" aria-label="%s" data-bg="%s">`,
		cardW, height, html.EscapeString(title), html.EscapeString(l.BackgroundColor))
	fmt.Fprintf(&b, `<rect class="card-bg" width="%d" height="%.0f" rx="14" fill="%s"/>`, cardW, height, html.EscapeString(l.BackgroundColor))
	// The logo keeps its shape inside its box; the logo text follows it.
	lw := logoBoxW * 1.0
	if art.LogoAspect > 0 {
		lw = math.Min(logoBoxW, logoBoxH*art.LogoAspect)
	}
	fmt.Fprintf(&b, `<image href="%s" x="14" y="12" width="%.1f" height="%d" preserveAspectRatio="xMinYMid meet"/>`,
		html.EscapeString(art.Logo), lw, logoBoxH)
	right := float64(cardW - 14)
	for i := len(l.Header) - 1; i >= 0; i-- { // header fields from the right edge
		f := l.Header[i]
		w := math.Max(textWidthAt(f.Label, 10), textWidthAt(f.Value, 16)) + 12
		svgText(&b, right, 24, 10, l.LabelColor, "end", "", strings.ToUpper(fit(f.Label, 120, 10)))
		svgText(&b, right, 44, 16, l.ForegroundColor, "end", "", fit(f.Value, 120, 16))
		right -= w
	}
	svgText(&b, 14+lw+8, 35, 17, l.ForegroundColor, "", "600", fit(l.LogoText, right-(14+lw+8), 17))
	fmt.Fprintf(&b, `<image href="%s" x="0" y="%d" width="%d" height="%d" preserveAspectRatio="xMidYMid slice"/>`,
		html.EscapeString(art.Strip), appleTop, cardW, stripH)
	for i, f := range l.Primary {
		x := 16 + float64(i)*160
		svgText(&b, x, appleTop+32, 12, l.ForegroundColor, "", "", fit(f.Label, 150, 12))
		svgFitted(&b, x, appleTop+76, 38, 14, float64(cardW-32)/float64(len(l.Primary)), l.ForegroundColor, "", "300", f.Value)
	}
	row := append(append([]passes.LayoutField{}, l.Secondary...), l.Auxiliary...)
	if len(row) > 4 {
		row = row[:4]
	}
	col := float64(cardW-28) / math.Max(float64(len(row)), 1)
	for i, f := range row {
		x := 14 + float64(i)*col
		svgText(&b, x, fieldsY+12, 10, l.LabelColor, "", "", strings.ToUpper(fit(f.Label, col-8, 10)))
		svgFitted(&b, x, fieldsY+32, 15, 11, col-8, l.ForegroundColor, "", "", f.Value)
	}
	// The barcode on its white card, the number under it.
	boxW := codeW + 24
	bx := (cardW - boxW) / 2
	fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" rx="6" fill="#ffffff"/>`, bx, codeY, boxW, codeH+30)
	drawCode(&b, l.Barcode.Format, l.Barcode.Message, bx+12, codeY+10, codeW, codeH-8)
	svgText(&b, cardW/2, codeY+codeH+18, 12, "#000000", "middle", "", l.Barcode.AltText)
	if l.Voided {
		fmt.Fprintf(&b, `<rect width="%d" height="%.0f" rx="14" fill="#ffffff" fill-opacity="0.55"/>`, cardW, height)
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) //nolint:gosec // every text and attribute above is escaped
}

// textWidthAt estimates the width of s at size.
func textWidthAt(s string, size int) float64 { return float64(len([]rune(s))) * float64(size) * 0.6 }

// codeBox is the size a barcode format takes on a card.
func codeBox(format string) (w, h float64) {
	switch format {
	case "PKBarcodeFormatCode128", "PKBarcodeFormatPDF417", "CODE_128", "PDF_417":
		return 260, 76
	}
	return 132, 140
}

// googleFace is what the front of a Google Wallet pass shows, of any
// vertical: the issuer with the logo, the title, one or two labelled
// values, the barcode and, for a stamp card, its hero image.
type googleFace struct {
	Bg, Issuer, Title     string
	Label1, Value1        string
	Label2, Value2        string
	Hero                  string // an image's URL, "" for none
	Format, Code, AltText string
	Inactive              bool
}

// googleCardSVG draws the front of a Google Wallet pass.
func googleCardSVG(g googleFace, art cardArt, title string) template.HTML {
	bg := g.Bg
	if bg == "" {
		bg = "#4285f4"
	}
	ink := "#ffffff"
	if luminance(bg) > 0.55 {
		ink = "#202124"
	}
	if g.Format == "" {
		g.Format = "QR_CODE"
	}
	codeW, codeH := codeBox(g.Format)
	codeY := float64(googleTopH)
	height := codeY + codeH + 30 + 20
	heroH := 0.0
	if g.Hero != "" {
		heroH = cardW * 336.0 / 1032.0 // Google's hero image is 1032 × 336
		height += heroH
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="card-art" id="google-card" viewBox="0 0 %d %.0f" role="img" aria-label="%s" data-bg="%s">`,
		cardW, height, html.EscapeString(title), html.EscapeString(bg))
	fmt.Fprintf(&b, `<defs><clipPath id="google-logo-clip"><circle cx="34" cy="34" r="18"/></clipPath>`+
		`<clipPath id="google-hero-clip"><rect y="%.1f" width="%d" height="%.1f" rx="0"/></clipPath></defs>`, height-heroH, cardW, heroH)
	fmt.Fprintf(&b, `<rect class="card-bg" width="%d" height="%.0f" rx="24" fill="%s"/>`, cardW, height, html.EscapeString(bg))
	fmt.Fprintf(&b, `<circle cx="34" cy="34" r="19" fill="#ffffff"/>`)
	fmt.Fprintf(&b, `<image href="%s" x="16" y="16" width="36" height="36" preserveAspectRatio="xMidYMid meet" clip-path="url(#google-logo-clip)"/>`,
		html.EscapeString(art.Icon))
	svgText(&b, 62, 39, 14, ink, "", "", fit(g.Issuer, cardW-80, 14))
	fmt.Fprintf(&b, `<line x1="0" y1="66" x2="%d" y2="66" stroke="%s" stroke-opacity="0.25"/>`, cardW, ink)
	svgFitted(&b, 18, 100, 22, 15, cardW-36, ink, "", "", g.Title)
	if g.Label1 != "" || g.Value1 != "" {
		svgText(&b, 18, 136, 12, ink, "", "", fit(g.Label1, 150, 12))
		svgFitted(&b, 18, 162, 22, 14, 150, ink, "", "", g.Value1)
	}
	if g.Label2 != "" || g.Value2 != "" {
		svgText(&b, 180, 136, 12, ink, "", "", fit(g.Label2, 140, 12))
		svgFitted(&b, 180, 162, 22, 14, 140, ink, "", "", g.Value2)
	}
	boxW := codeW + 24
	bx := (cardW - boxW) / 2
	fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" rx="10" fill="#ffffff"/>`, bx, codeY, boxW, codeH+30)
	drawCode(&b, g.Format, g.Code, bx+12, codeY+10, codeW, codeH-8)
	svgText(&b, cardW/2, codeY+codeH+18, 12, "#202124", "middle", "", g.AltText)
	if g.Hero != "" {
		fmt.Fprintf(&b, `<image href="%s" x="0" y="%.1f" width="%d" height="%.1f" preserveAspectRatio="xMidYMid slice" clip-path="url(#google-hero-clip)"/>`,
			html.EscapeString(g.Hero), height-heroH, cardW, heroH)
	}
	if g.Inactive {
		fmt.Fprintf(&b, `<rect width="%d" height="%.0f" rx="24" fill="#ffffff" fill-opacity="0.55"/>`, cardW, height)
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) //nolint:gosec // every text and attribute above is escaped
}

func balanceText(b *walletobjects.LoyaltyPointsBalance) string {
	switch {
	case b == nil:
		return ""
	case b.String != "":
		return b.String
	case b.Money != nil:
		return fmt.Sprintf("%d %s", b.Money.Micros/1_000_000, b.Money.CurrencyCode)
	case b.Double != 0:
		return fmt.Sprint(b.Double)
	}
	return fmt.Sprint(b.Int)
}

// luminance is the relative luminance of "#rrggbb" (0 black, 1 white).
func luminance(hex string) float64 {
	var r, g, b int
	if _, err := fmt.Sscanf(hex, "#%02x%02x%02x", &r, &g, &b); err != nil {
		return 0
	}
	lin := func(c int) float64 {
		v := float64(c) / 255
		if v <= 0.03928 {
			return v / 12.92
		}
		return math.Pow((v+0.055)/1.055, 2.4)
	}
	return 0.2126*lin(r) + 0.7152*lin(g) + 0.0722*lin(b)
}

// drawCode draws the barcode of msg in the box: QR and Code 128 encoded
// for real (a phone could scan the preview); PDF417 and Aztec, which no
// encoder here writes, as a pattern of their shape, marked as a sample.
func drawCode(b *strings.Builder, format, msg string, x, y, w, h float64) {
	switch format {
	case "PKBarcodeFormatQR", "QR_CODE", "":
		if q, err := qrcode.New(msg, qrcode.Medium); err == nil {
			q.DisableBorder = true
			drawModules(b, q.Bitmap(), x+(w-h)/2, y, h)
			return
		}
	case "PKBarcodeFormatCode128", "CODE_128":
		if bars, err := code128(msg); err == nil {
			drawBars(b, bars, x, y, w, h)
			return
		}
	case "PKBarcodeFormatAztec", "AZTEC":
		drawAztecSample(b, msg, x+(w-h)/2, y, h)
		return
	}
	drawPDF417Sample(b, msg, x, y, w, h)
}

// drawModules draws a square matrix of dark modules as one path.
func drawModules(b *strings.Builder, m [][]bool, x, y, size float64) {
	n := float64(len(m))
	if n == 0 {
		return
	}
	u := size / n
	b.WriteString(`<path class="code" fill="#000000" d="`)
	for r, row := range m {
		for c, dark := range row {
			if dark {
				fmt.Fprintf(b, "M%.2f %.2fh%.2fv%.2fh-%.2fz", x+float64(c)*u, y+float64(r)*u, u, u, u)
			}
		}
	}
	b.WriteString(`"/>`)
}

// code128 returns the bars of msg in Code 128, one bool per module.
func code128(msg string) ([]bool, error) {
	m, err := oned.NewCode128Writer().Encode(msg, gozxing.BarcodeFormat_CODE_128, 0, 1,
		map[gozxing.EncodeHintType]interface{}{gozxing.EncodeHintType_MARGIN: 0})
	if err != nil {
		return nil, err
	}
	bars := make([]bool, m.GetWidth())
	for i := range bars {
		bars[i] = m.Get(i, 0)
	}
	return bars, nil
}

func drawBars(b *strings.Builder, bars []bool, x, y, w, h float64) {
	u := w / float64(len(bars))
	b.WriteString(`<path class="code" fill="#000000" d="`)
	for i := 0; i < len(bars); {
		if !bars[i] {
			i++
			continue
		}
		j := i
		for j < len(bars) && bars[j] {
			j++
		}
		fmt.Fprintf(b, "M%.2f %.2fh%.2fv%.2fh-%.2fz", x+float64(i)*u, y, float64(j-i)*u, h, float64(j-i)*u)
		i = j
	}
	b.WriteString(`"/>`)
}

// sampleBits are pseudo-random bits drawn from msg, for the sample
// patterns: the same number always looks the same.
func sampleBits(msg string, n int) []bool {
	h := fnv.New64a()
	h.Write([]byte(msg))
	s := h.Sum64() | 1
	out := make([]bool, n)
	for i := range out {
		s ^= s << 13
		s ^= s >> 7
		s ^= s << 17
		out[i] = s&1 == 1
	}
	return out
}

// drawPDF417Sample draws a PDF417-shaped pattern: start and stop bars
// and rows of modules.
func drawPDF417Sample(b *strings.Builder, msg string, x, y, w, h float64) {
	const cols, rows = 68, 12
	bits := sampleBits(msg, cols*rows)
	for i := range rows { // start and stop patterns: solid columns
		for _, c := range []int{0, 1, 2, 3, 4, 5, 6, 7, cols - 9, cols - 8, cols - 7, cols - 6, cols - 5, cols - 4, cols - 3, cols - 2, cols - 1} {
			bits[i*cols+c] = c%2 == 0 || c == 1
		}
	}
	m := make([][]bool, rows)
	for r := range m {
		m[r] = bits[r*cols : (r+1)*cols]
	}
	u, v := w/cols, h/rows
	b.WriteString(`<path class="code sample" fill="#000000" d="`)
	for r, row := range m {
		for c, dark := range row {
			if dark {
				fmt.Fprintf(b, "M%.2f %.2fh%.2fv%.2fh-%.2fz", x+float64(c)*u, y+float64(r)*v, u, v, u)
			}
		}
	}
	b.WriteString(`"/>`)
}

// drawAztecSample draws an Aztec-shaped pattern: the bullseye in the
// middle, modules around it.
func drawAztecSample(b *strings.Builder, msg string, x, y, size float64) {
	const n = 23
	bits := sampleBits(msg, n*n)
	m := make([][]bool, n)
	for r := range m {
		m[r] = bits[r*n : (r+1)*n]
		for c := range m[r] {
			d := max(abs(r-n/2), abs(c-n/2))
			if d <= 5 {
				m[r][c] = d%2 == 0
			}
		}
	}
	drawModules(b, m, x, y, size)
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
