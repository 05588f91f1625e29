package assets

import (
	"bytes"
	"image/png"
	"testing"
)

func TestDefaultImages(t *testing.T) {
	sizes := map[string][2]int{"icon": {38, 38}, "logo": {50, 50}, "strip": {375, 144}}
	for kind, size := range sizes {
		for scale, suffix := range []string{"", "@2x", "@3x"} {
			name := kind + suffix + ".png"
			data, ok := DefaultImage(name)
			if !ok {
				t.Fatalf("DefaultImage(%q) missing", name)
			}
			cfg, err := png.DecodeConfig(bytes.NewReader(data))
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if w, h := size[0]*(scale+1), size[1]*(scale+1); cfg.Width != w || cfg.Height != h {
				t.Errorf("%s is %d×%d, want %d×%d", name, cfg.Width, cfg.Height, w, h)
			}
		}
	}
}

func TestDefaultImageUnknown(t *testing.T) {
	for _, name := range []string{"", "thumbnail.png", "../assets.go", "images/icon.png", "."} {
		if data, ok := DefaultImage(name); ok {
			t.Errorf("DefaultImage(%q) = %d bytes, want none", name, len(data))
		}
	}
}

func TestDefaultImageIsACopy(t *testing.T) {
	a, _ := DefaultImage("icon.png")
	a[0] = 0
	b, _ := DefaultImage("icon.png")
	if b[0] == 0 {
		t.Errorf("DefaultImage shares its bytes between calls")
	}
}
