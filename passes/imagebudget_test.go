package passes

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/png"
	"strings"
	"testing"
	"time"
)

// pngChunks returns a PNG signature, an IHDR for w×h pixels of depth and
// colorType, and then the given chunks (type, data pairs) verbatim.
func pngChunks(w, h uint32, depth, colorType byte, chunks ...string) []byte {
	var b bytes.Buffer
	b.Write(pngSignature)
	put := func(typ string, data []byte) {
		binary.Write(&b, binary.BigEndian, uint32(len(data)))
		c := append([]byte(typ), data...)
		b.Write(c)
		binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(c))
	}
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr, w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = depth, colorType
	put("IHDR", ihdr)
	for i := 0; i+1 < len(chunks); i += 2 {
		put(chunks[i], []byte(chunks[i+1]))
	}
	return b.Bytes()
}

func TestImageBudgetReadsTheHeaderOnly(t *testing.T) {
	// None of these carries image data: a decode would fail, so an answer
	// of ErrImageTooLarge (or none) comes from the header alone.
	tests := []struct {
		name    string
		src     []byte
		refused bool
	}{
		{"rgba 8-bit 4096²", pngChunks(4096, 4096, 8, 6), false},
		{"rgba 16-bit 4096²", pngChunks(4096, 4096, 16, 6), true},
		{"rgba 16-bit 2896²", pngChunks(2896, 2896, 16, 6), false},
		{"rgb 16-bit 4096²", pngChunks(4096, 4096, 16, 2), true},
		{"gray 16-bit 4096²", pngChunks(4096, 4096, 16, 0), false},
		{"gray 16-bit 4096² with tRNS", pngChunks(4096, 4096, 16, 0, "tRNS", "\x00\x00"), true},
		{"paletted 4096²", pngChunks(4096, 4096, 8, 3, "PLTE", "\x00\x00\x00", "IDAT", ""), false},
		{"too wide", pngChunks(MaxImageSide+1, 1, 8, 0), true},
		{"too tall", pngChunks(1, 1<<30, 1, 0), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := readPNGHeader(tt.src)
			if !tt.refused {
				if err != nil {
					t.Fatalf("readPNGHeader = %v, want the header accepted", err)
				}
				return
			}
			if !errors.Is(err, ErrImageTooLarge) || !errors.Is(err, ErrBadImage) {
				t.Fatalf("readPNGHeader = %v, want ErrImageTooLarge", err)
			}
			for _, limit := range []string{"4096 pixels a side", "64 MiB decoded"} {
				if !strings.Contains(err.Error(), limit) {
					t.Errorf("error %q does not name the limit %q", err, limit)
				}
			}
			start := time.Now()
			_, err = NewImageScaler(0).Scale(context.Background(), ImageStrip, tt.src)
			if !errors.Is(err, ErrImageTooLarge) {
				t.Errorf("Scale = %v, want ErrImageTooLarge", err)
			}
			if took := time.Since(start); took > 100*time.Millisecond {
				t.Errorf("refusing took %v", took)
			}
		})
	}
}

func TestImageScalerWaitsForMemory(t *testing.T) {
	s := NewImageScaler(1 << 20)
	src := testPNG(t, 64, 64)
	// Another decode holds the whole budget: this one may not start.
	if err := s.sem.Acquire(context.Background(), 1<<20); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if out, err := s.Scale(ctx, ImageIcon, src); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Scale with the budget taken = %d files, %v; want it to wait until its deadline", len(out), err)
	}
	s.sem.Release(1 << 20)
	out, err := s.Scale(context.Background(), ImageIcon, src)
	if err != nil || len(out) != 3 {
		t.Fatalf("Scale with the budget free = %d files, %v", len(out), err)
	}
}

func TestShrinkAveragesPremultiplied(t *testing.T) {
	px := []color.NRGBA{
		{255, 0, 0, 255},
		{0, 0, 255, 0}, // transparent: its blue must not leak
		{0, 255, 0, 128},
	}
	// The same three pixels in each layout shrink reads its own way.
	nrgba := image.NewNRGBA(image.Rect(0, 0, 3, 1))
	rgba := image.NewRGBA(nrgba.Bounds())
	wide := image.NewNRGBA64(nrgba.Bounds())
	for x, c := range px {
		nrgba.Set(x, 0, c)
		rgba.Set(x, 0, c)
		wide.Set(x, 0, c)
	}
	for _, src := range []image.Image{nrgba, rgba, wide} {
		got := shrink(src, 2)
		if got.Bounds() != image.Rect(0, 0, 2, 1) {
			t.Fatalf("%T: bounds %v, want 2×1", src, got.Bounds())
		}
		if c := got.RGBAAt(0, 0); c != (color.RGBA{128, 0, 0, 128}) {
			t.Errorf("%T: averaged pixel %v, want half-transparent red", src, c)
		}
		if c := got.RGBAAt(1, 0); c != (color.RGBA{0, 128, 0, 128}) {
			t.Errorf("%T: edge pixel %v, want the lone green pixel premultiplied", src, c)
		}
	}
}

// TestScaleImageDecodedKinds scales the same picture stored as each kind
// of image image/png decodes to, large enough to be box-averaged first,
// and expects the same colours.
func TestScaleImageDecodedKinds(t *testing.T) {
	const w, h = 1600, 500
	nrgba := image.NewNRGBA(image.Rect(0, 0, w, h))
	wide := image.NewNRGBA64(nrgba.Bounds())
	gray := image.NewGray16(nrgba.Bounds())
	pal := image.NewPaletted(nrgba.Bounds(), color.Palette{color.NRGBA{200, 30, 30, 255}, color.NRGBA{30, 30, 200, 128}})
	for y := range h {
		for x := range w {
			c := pal.Palette[0]
			if x >= w/2 {
				c = pal.Palette[1]
				pal.SetColorIndex(x, y, 1)
			}
			nrgba.Set(x, y, c)
			wide.Set(x, y, c)
			gray.Set(x, y, color.Gray16{uint16(0x101 * (x * 255 / w))})
		}
	}
	for _, tt := range []struct {
		name string
		img  image.Image
	}{{"nrgba", nrgba}, {"nrgba64", wide}, {"paletted", pal}} {
		t.Run(tt.name, func(t *testing.T) {
			out := scaleEncoded(t, ImageLogo, tt.img)
			b := out.Bounds()
			left := color.NRGBAModel.Convert(out.At(b.Dx()/4, b.Dy()/2)).(color.NRGBA)
			right := color.NRGBAModel.Convert(out.At(3*b.Dx()/4, b.Dy()/2)).(color.NRGBA)
			if !near(left, color.NRGBA{200, 30, 30, 255}) || !near(right, color.NRGBA{30, 30, 200, 128}) {
				t.Errorf("left %v right %v, want the source's red and half-transparent blue", left, right)
			}
		})
	}
	t.Run("gray16", func(t *testing.T) {
		out := scaleEncoded(t, ImageLogo, gray)
		b := out.Bounds()
		l, _, _, _ := out.At(2, b.Dy()/2).RGBA()
		r, _, _, _ := out.At(b.Dx()-3, b.Dy()/2).RGBA()
		if l > 0x1000 || r < 0xf000 {
			t.Errorf("gray ramp from %#x to %#x, want dark to light", l, r)
		}
	})
}

func scaleEncoded(t *testing.T, kind string, img image.Image) image.Image {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	files, err := ScaleImage(kind, buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	out, err := png.Decode(bytes.NewReader(files[imageFileName(kind, 3)]))
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func near(a, b color.NRGBA) bool {
	d := func(x, y uint8) bool { return x-y < 4 || y-x < 4 }
	return d(a.R, b.R) && d(a.G, b.G) && d(a.B, b.B) && d(a.A, b.A)
}
