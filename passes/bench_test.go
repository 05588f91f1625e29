package passes

import (
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"testing"
)

// The two benchmarks to compare: rendering a pass should reach at least
// 80% of the rate of bare RSA signatures, the physical limit.

// BenchmarkRSASign is one RSA-2048 PKCS #1 v1.5 SHA-256 signature alone.
func BenchmarkRSASign(b *testing.B) {
	key := testChain.material.Key
	digest := sha256.Sum256([]byte("manifest"))
	b.Run("serial", func(b *testing.B) {
		for b.Loop() {
			if _, err := key.Sign(rand.Reader, digest[:], crypto.SHA256); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := key.Sign(rand.Reader, digest[:], crypto.SHA256); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}

// BenchmarkRenderPass renders and signs a whole pass with all nine images:
// the embedded defaults, or a program's own (after the first render has
// cached their digests).
func BenchmarkRenderPass(b *testing.B) {
	r := newTestRenderer(b)
	own := testProgram()
	own.Design.Images = map[string][]byte{}
	for _, kind := range []string{ImageIcon, ImageLogo, ImageStrip} {
		scaled, err := ScaleImage(kind, testPNG(b, 1200, 600))
		if err != nil {
			b.Fatal(err)
		}
		for name, data := range scaled {
			own.Design.Images[name] = data
		}
	}
	for _, bc := range []struct {
		name string
		p    Program
	}{
		{"defaults", testProgram()},
		{"own-images", own},
	} {
		c := testCard()
		b.Run(bc.name+"/serial", func(b *testing.B) {
			for b.Loop() {
				if _, err := r.Render(bc.p, c); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(bc.name+"/parallel", func(b *testing.B) {
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := r.Render(bc.p, c); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
