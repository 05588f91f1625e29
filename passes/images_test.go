package passes

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"strings"
	"testing"
)

// testPNG returns a w×h PNG: a horizontal red-to-blue gradient, half
// transparent at the bottom.
func testPNG(t testing.TB, w, h int) []byte {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			a := uint8(255)
			if y >= h/2 {
				a = 128
			}
			img.SetNRGBA(x, y, color.NRGBA{uint8(255 * x / max(1, w-1)), 40, uint8(255 - 255*x/max(1, w-1)), a})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func pngSize(t *testing.T, data []byte) (int, int) {
	t.Helper()
	cfg, err := png.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("output is not a PNG: %v", err)
	}
	return cfg.Width, cfg.Height
}

func TestScaleImageSizes(t *testing.T) {
	tests := []struct {
		kind       string
		srcW, srcH int
		want1x     [2]int // @1x size; @2x and @3x are multiples
	}{
		{ImageIcon, 512, 512, [2]int{38, 38}},
		{ImageIcon, 20, 20, [2]int{38, 38}},    // scaled up
		{ImageIcon, 200, 100, [2]int{38, 19}},  // wide icon fits the square
		{ImageLogo, 640, 200, [2]int{160, 50}}, // same aspect as the box
		{ImageLogo, 300, 300, [2]int{50, 50}},  // square logo: height bound
		{ImageLogo, 1000, 100, [2]int{160, 16}},
		{ImageStrip, 1125, 432, [2]int{375, 144}},
		{ImageStrip, 600, 600, [2]int{375, 144}}, // cropped to cover the box
		{ImageStrip, 10, 3, [2]int{375, 144}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/%dx%d", tt.kind, tt.srcW, tt.srcH), func(t *testing.T) {
			out, err := ScaleImage(tt.kind, testPNG(t, tt.srcW, tt.srcH))
			if err != nil {
				t.Fatalf("ScaleImage(%s, %d×%d): %v", tt.kind, tt.srcW, tt.srcH, err)
			}
			if len(out) != 3 {
				t.Errorf("got %d files, want 3", len(out))
			}
			for scale := 1; scale <= 3; scale++ {
				name := imageFileName(tt.kind, scale)
				data, ok := out[name]
				if !ok {
					t.Fatalf("no %s in %v", name, keysOf(out))
				}
				w, h := pngSize(t, data)
				box := imageBoxes[tt.kind]
				if w > box.w*scale || h > box.h*scale {
					t.Errorf("%s from %d×%d is %d×%d, outside the %d×%d box", name, tt.srcW, tt.srcH, w, h, box.w*scale, box.h*scale)
				}
				// Rounding may differ by a pixel from the exact multiple.
				wantW, wantH := tt.want1x[0]*scale, tt.want1x[1]*scale
				if abs(w-wantW) > 1 || abs(h-wantH) > 1 {
					t.Errorf("%s from %d×%d is %d×%d, want %d×%d", name, tt.srcW, tt.srcH, w, h, wantW, wantH)
				}
			}
		})
	}
}

func TestScaleImageKeepsTransparency(t *testing.T) {
	out, err := ScaleImage(ImageLogo, testPNG(t, 320, 100))
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(out["logo@2x.png"]))
	if err != nil {
		t.Fatal(err)
	}
	b := img.Bounds()
	_, _, _, top := img.At(b.Dx()/2, 2).RGBA()
	_, _, _, bottom := img.At(b.Dx()/2, b.Dy()-3).RGBA()
	if top != 0xffff || bottom > 0x8200 || bottom < 0x7d00 {
		t.Errorf("alpha top %#x bottom %#x, want opaque and half transparent", top, bottom)
	}
}

func TestScaleImageRejects(t *testing.T) {
	var jpg bytes.Buffer
	if err := jpeg.Encode(&jpg, image.NewRGBA(image.Rect(0, 0, 8, 8)), nil); err != nil {
		t.Fatal(err)
	}
	valid := testPNG(t, 40, 40)
	tests := []struct {
		name string
		src  []byte
	}{
		{"empty", nil},
		{"jpeg", jpg.Bytes()},
		{"text", []byte("hello, world")},
		{"truncated png", valid[:len(valid)/2]},
		{"too wide", pngHeaderOnly(MaxImageSide+1, 10)},
		{"too tall", pngHeaderOnly(10, 1<<30)},
		{"zero width", pngHeaderOnly(0, 10)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := ScaleImage(ImageIcon, tt.src)
			if !errors.Is(err, ErrBadImage) {
				t.Errorf("ScaleImage = %d files, %v; want ErrBadImage", len(out), err)
			}
			var bad *ImageError
			if !errors.As(err, &bad) || bad.Field != ImageIcon || bad.Reason == "" ||
				!strings.HasSuffix(err.Error(), bad.Reason) {
				t.Errorf("ScaleImage error %v (%#v): want an *ImageError naming %q and its reason", err, bad, ImageIcon)
			}
		})
	}
	if _, err := ScaleImage("thumbnail", valid); err == nil || errors.Is(err, ErrBadImage) {
		t.Errorf("unknown kind: err = %v, want an error that is not ErrBadImage", err)
	}
}

// pngHeaderOnly returns a PNG signature and a valid IHDR chunk claiming
// w×h RGBA pixels, with no image data: what a decompression bomb looks
// like to DecodeConfig.
func pngHeaderOnly(w, h uint32) []byte {
	ihdr := make([]byte, 4+13)
	copy(ihdr, "IHDR")
	binary.BigEndian.PutUint32(ihdr[4:], w)
	binary.BigEndian.PutUint32(ihdr[8:], h)
	ihdr[12] = 8 // bit depth
	ihdr[13] = 6 // RGBA
	var b bytes.Buffer
	b.Write(pngSignature)
	binary.Write(&b, binary.BigEndian, uint32(13))
	b.Write(ihdr)
	binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(ihdr))
	return b.Bytes()
}

func keysOf(m map[string][]byte) []string {
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	return keys
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
