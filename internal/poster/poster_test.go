package poster

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"
)

func testPoster() Poster {
	return Poster{OrganizationName: "Кофейня «Зерно»", ProgramName: "Кофейные баллы с очень длинным названием программы лояльности",
		JoinURL: "https://cards.example.com/j/abc23def45", BackgroundColor: "#6b3e26", ForegroundColor: "#ffffff",
		Headline: "Наведите камеру — получите карту", Offer: "Бонус за регистрацию: 100 баллов",
		Terms: "5% от суммы покупки возвращается баллами. 1 балл = 1 рубль. Баллы сгорают через год, и эта строка слишком длинная для одной строки постера."}
}

// decodeQR finds and decodes the QR code in img as a phone camera would.
func decodeQR(t *testing.T, img image.Image) string {
	t.Helper()
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		t.Fatalf("binarize: %v", err)
	}
	res, err := qrcode.NewQRCodeReader().Decode(bmp, map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_TRY_HARDER: true})
	if err != nil {
		t.Fatalf("decode QR: %v", err)
	}
	return res.GetText()
}

func artifacts(t *testing.T) string {
	if dir := os.Getenv("LOYALPASS_ARTIFACTS"); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	return t.TempDir()
}

func TestPNGIsA5AndItsQRScansToTheJoinURL(t *testing.T) {
	p := testPoster()
	data, err := PNG(p)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("not a PNG: %v", err)
	}
	// A5 is 148 × 210 mm: 874 × 1240 pixels at 150 dpi.
	if b := img.Bounds(); b.Dx() != 874 || b.Dy() != 1240 {
		t.Errorf("poster is %d×%d px, want 874×1240", b.Dx(), b.Dy())
	}
	if got := decodeQR(t, img); got != p.JoinURL {
		t.Errorf("the poster's QR says %q, want %q", got, p.JoinURL)
	}
	// The program's colour fills the page around the QR panel.
	if r, g, b, _ := img.At(5, 5).RGBA(); r>>8 != 0x6b || g>>8 != 0x3e || b>>8 != 0x26 {
		t.Errorf("background #%02x%02x%02x, want #6b3e26", r>>8, g>>8, b>>8)
	}
	shot := filepath.Join(artifacts(t), "poster-ru.png")
	if err := os.WriteFile(shot, data, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("poster: %s", shot)
}

func TestPDFIsA5AndItsQRScansToTheJoinURL(t *testing.T) {
	p := testPoster()
	data, err := PDF(p)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(data, []byte("%PDF-")) || !bytes.Contains(data, []byte("%%EOF")) {
		t.Fatalf("not a PDF: %.40q", data)
	}
	// A5 in points: 419.53 × 595.28.
	if !regexp.MustCompile(`/MediaBox \[0 0 419\.5\d* 595\.2\d*\]`).Match(data) {
		t.Errorf("page is not A5: %s", regexp.MustCompile(`/MediaBox \[[^\]]*\]`).Find(data))
	}
	// The Go fonts are embedded, so Cyrillic prints on any printer.
	if !bytes.Contains(data, []byte("/FontFile2")) {
		t.Error("no embedded TrueType font")
	}
	img := embeddedPNG(t, data)
	if got := decodeQR(t, img); got != p.JoinURL {
		t.Errorf("the PDF's QR says %q, want %q", got, p.JoinURL)
	}
	path := filepath.Join(artifacts(t), "poster-ru.pdf")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestLongTextsAreCut(t *testing.T) {
	width := func(s string, size float64, bold bool) float64 { return float64(len([]rune(s))) * size / 4 }
	for _, l := range layout(testPoster(), width) {
		if w := width(l.text, l.size, l.bold); w > pageW-2*margin {
			t.Errorf("%q is %.0f mm wide, the page has %.0f", l.text, w, pageW-2*margin)
		}
	}
	lines := layout(testPoster(), width)
	names := 0
	for _, l := range lines {
		if l.size == 24 {
			names++
		}
	}
	if names != 2 {
		t.Errorf("the long name takes %d lines, want 2", names)
	}
	if last := lines[len(lines)-1].text; !strings.HasSuffix(last, "…") {
		t.Errorf("terms line %q was not cut", last)
	}
}

// embeddedPNG rebuilds the PDF's one image XObject as a PNG file (a PDF
// keeps a PNG's IDAT data and its parameters) and decodes it.
func embeddedPNG(t *testing.T, pdf []byte) image.Image {
	t.Helper()
	m := regexp.MustCompile(`(?s)/Subtype /Image.*?/Width (\d+).*?/Height (\d+).*?/ColorSpace /(\w+).*?/BitsPerComponent (\d+).*?/Length (\d+)>>\s*stream\r?\n`).FindSubmatchIndex(pdf)
	if m == nil {
		t.Fatal("no image in the PDF")
	}
	num := func(i int) int {
		n, _ := strconv.Atoi(string(pdf[m[2*i]:m[2*i+1]]))
		return n
	}
	w, h, bits, length := num(1), num(2), num(4), num(5)
	colorType := byte(0)
	if cs := string(pdf[m[6]:m[7]]); cs == "DeviceRGB" {
		colorType = 2
	}
	idat := pdf[m[1] : m[1]+length]
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	chunk := func(kind string, data []byte) {
		binary.Write(&b, binary.BigEndian, uint32(len(data)))
		b.WriteString(kind)
		b.Write(data)
		binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(append([]byte(kind), data...)))
	}
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], uint32(w))
	binary.BigEndian.PutUint32(ihdr[4:], uint32(h))
	ihdr[8], ihdr[9] = byte(bits), colorType
	chunk("IHDR", ihdr)
	chunk("IDAT", idat)
	chunk("IEND", nil)
	img, err := png.Decode(&b)
	if err != nil {
		t.Fatalf("the PDF's image is not PNG data: %v", err)
	}
	return img
}
