package landing

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"strings"
	"testing"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"
)

// decodeQR finds and decodes the QR code in img, the way a phone's camera
// would, so the test checks the code scans rather than how it is drawn.
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

func TestQRCode(t *testing.T) {
	p := testPage()
	h, _ := newTestServer(t, newFakeSource(p))
	rec := do(t, h, request{path: "/c/" + testToken + "/qr.png"})
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "image/png" {
		t.Errorf("Content-Type %q", ct)
	}
	if cc := rec.Header().Get("Cache-Control"); !strings.Contains(cc, "max-age=31536000") {
		t.Errorf("Cache-Control %q, want a long max-age", cc)
	}
	img, err := png.Decode(bytes.NewReader(rec.Body.Bytes()))
	if err != nil {
		t.Fatalf("not a PNG: %v", err)
	}
	if b := img.Bounds(); b.Dx() != qrSize || b.Dy() != qrSize {
		t.Errorf("image is %d×%d, want %d×%d", b.Dx(), b.Dy(), qrSize, qrSize)
	}
	// Only black and white modules, and a white quiet zone in the corner.
	for y := 0; y < qrSize; y += 3 {
		for x := 0; x < qrSize; x += 3 {
			g := color.GrayModel.Convert(img.At(x, y)).(color.Gray).Y
			if g != 0 && g != 0xff {
				t.Fatalf("pixel (%d,%d) is grey %d", x, y, g)
			}
		}
	}
	if g := color.GrayModel.Convert(img.At(1, 1)).(color.Gray).Y; g != 0xff {
		t.Error("no quiet zone")
	}
	if got := decodeQR(t, img); got != p.ShortURL {
		t.Errorf("QR code says %q, want %q", got, p.ShortURL)
	}
}

func TestQRCodeNotFound(t *testing.T) {
	noShort := testPage()
	noShort.Token, noShort.ShortURL = "noshort", ""
	h, _ := newTestServer(t, newFakeSource(testPage(), noShort))
	for _, path := range []string{"/c/nope/qr.png", "/c/noshort/qr.png"} {
		rec := do(t, h, request{path: path})
		if rec.Code != http.StatusNotFound {
			t.Errorf("%s: status %d, want 404", path, rec.Code)
		}
		if rec.Header().Get("Cache-Control") != "no-store" {
			t.Errorf("%s: a 404 must not be cached long", path)
		}
	}
}
