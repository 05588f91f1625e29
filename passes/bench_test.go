package passes

import (
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"testing"
)

// The two benchmarks to compare: rendering a pass should reach at least
// 80% of the rate of bare RSA signatures, the physical limit. Besides
// ns/op each reports cpu-ns/op, the process's CPU time per operation, which
// other load on the machine does not inflate; compare those on a busy box.

// BenchmarkRSASign is one RSA-2048 PKCS #1 v1.5 SHA-256 signature alone.
func BenchmarkRSASign(b *testing.B) {
	key := testChain.material.Key
	digest := sha256.Sum256([]byte("manifest"))
	benchSerialAndParallel(b, func() error {
		_, err := key.Sign(rand.Reader, digest[:], crypto.SHA256)
		return err
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
	c := testCard()
	for name, p := range map[string]Program{"defaults": testProgram(), "own-images": own} {
		b.Run(name, func(b *testing.B) {
			benchSerialAndParallel(b, func() error {
				_, err := r.Render(p, c)
				return err
			})
		})
	}
}

// benchSerialAndParallel runs op as a "serial" and a "parallel"
// sub-benchmark, each reporting cpu-ns/op besides ns/op.
func benchSerialAndParallel(b *testing.B, op func() error) {
	b.Run("serial", func(b *testing.B) {
		reportCPU(b, func() {
			for b.Loop() {
				if err := op(); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
	b.Run("parallel", func(b *testing.B) {
		reportCPU(b, func() {
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := op(); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	})
}

// reportCPU runs the benchmark body and adds the cpu-ns/op metric.
func reportCPU(b *testing.B, body func()) {
	start, ok := processCPUTime()
	body()
	if end, ok2 := processCPUTime(); ok && ok2 && b.N > 0 {
		b.ReportMetric(float64(end-start)/float64(b.N), "cpu-ns/op")
	}
}
