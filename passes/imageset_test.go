package passes

import (
	"bytes"
	"errors"
	"testing"

	"github.com/loyalpass/loyalpass/assets"
)

func TestRenderDesignImages(t *testing.T) {
	r := newTestRenderer(t)
	scaled, err := ScaleImage(ImageLogo, testPNG(t, 300, 100))
	if err != nil {
		t.Fatalf("ScaleImage: %v", err)
	}
	p := testProgram()
	p.Design.Images = scaled

	pkpass, err := r.Render(p, testCard())
	if err != nil {
		t.Fatalf("Render: %v", err)
	}
	files := unpack(t, pkpass)
	checkManifest(t, files)
	for _, name := range imageNames {
		want, _ := assets.DefaultImage(name)
		if own, ok := scaled[name]; ok {
			want = own
		}
		if !bytes.Equal(files[name], want) {
			t.Errorf("%s is not the expected image", name)
		}
	}

	// A new version with other images is not served from the cache.
	icon, err := ScaleImage(ImageIcon, testPNG(t, 64, 64))
	if err != nil {
		t.Fatalf("ScaleImage: %v", err)
	}
	p.Version++
	p.Design.Images = icon
	pkpass, err = r.Render(p, testCard())
	if err != nil {
		t.Fatalf("Render: %v", err)
	}
	files = unpack(t, pkpass)
	checkManifest(t, files)
	if def, _ := assets.DefaultImage("logo.png"); !bytes.Equal(files["logo.png"], def) {
		t.Errorf("logo.png of version %d is the old version's", p.Version)
	}
	if !bytes.Equal(files["icon@3x.png"], icon["icon@3x.png"]) {
		t.Errorf("icon@3x.png of version %d is not the program's icon", p.Version)
	}

	// Images changed without a version bump are caught when their sizes
	// differ: the pass never carries the cached set in their place.
	bigger, err := ScaleImage(ImageIcon, testPNG(t, 300, 300))
	if err != nil {
		t.Fatalf("ScaleImage: %v", err)
	}
	if len(bigger["icon.png"]) == len(icon["icon.png"]) {
		t.Fatalf("test images have the same size; pick others")
	}
	p.Design.Images = bigger
	pkpass, err = r.Render(p, testCard())
	if err != nil {
		t.Fatalf("Render: %v", err)
	}
	files = unpack(t, pkpass)
	checkManifest(t, files)
	if !bytes.Equal(files["icon.png"], bigger["icon.png"]) {
		t.Errorf("icon.png is the cached image, not the one passed in")
	}
}

func TestRenderRejectsForeignImages(t *testing.T) {
	r := newTestRenderer(t)
	for name, data := range map[string][]byte{
		"thumbnail.png": testPNG(t, 10, 10), // not shown by a store card
		"../icon.png":   testPNG(t, 10, 10),
		"logo.png":      []byte("GIF89a"),
	} {
		p := testProgram()
		p.Design.Images = map[string][]byte{name: data}
		if _, err := r.Render(p, testCard()); !errors.Is(err, ErrBadImage) {
			t.Errorf("image %q: err = %v, want ErrBadImage", name, err)
		}
	}
}
