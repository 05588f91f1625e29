package passes

import (
	"image"
	"math"
)

// shrinkFactor is the integer factor by which a source image can be box
// averaged before the Catmull-Rom scale to a target f times its size, so
// that the scaler reads at most twice the target's pixels on each side.
func shrinkFactor(f float64) int {
	if f <= 0 || f >= 0.5 {
		return 1
	}
	return int(math.Floor(1 / f))
}

// shrink averages k×k blocks of src (the blocks at the right and bottom
// edges average the pixels they have) into an 8-bit premultiplied RGBA
// image. With k = 1 it only converts. It reads every pixel once, row by
// row, so a large upload costs one pass over its pixels and the small
// result, not the scaler's per-tap work on the whole source, which is
// slow for 16-bit and paletted images that the scaler reads through At.
func shrink(src image.Image, k int) *image.RGBA {
	b := src.Bounds()
	sw := b.Dx()
	dw, dh := (sw+k-1)/k, (b.Dy()+k-1)/k
	dst := image.NewRGBA(image.Rect(0, 0, dw, dh))
	add, unit := rowAdder(src, k)
	sums := make([]uint64, 4*dw)
	for oy := range dh {
		y0, y1 := b.Min.Y+oy*k, min(b.Min.Y+(oy+1)*k, b.Max.Y)
		clear(sums)
		for y := y0; y < y1; y++ {
			add(y, sums)
		}
		out := dst.Pix[oy*dst.Stride:]
		for ox := range dw {
			// Each sum holds n pixels of at most unit each; round the mean
			// to 8 bits.
			n := uint64(y1-y0) * uint64(min((ox+1)*k, sw)-ox*k) * unit
			for c := range 4 {
				out[4*ox+c] = uint8((sums[4*ox+c]*255 + n/2) / n)
			}
		}
	}
	return dst
}

// rowAdder returns a function that adds row y of src into sums, pixel x
// into the four sums of column x/k, as premultiplied RGBA, and the value
// a fully opaque pixel adds to its alpha sum. RGBA and NRGBA, which most
// uploads decode to, are read directly; other images a row at a time as
// 16-bit premultiplied RGBA.
func rowAdder(src image.Image, k int) (add func(y int, sums []uint64), unit uint64) {
	b := src.Bounds()
	sw := b.Dx()
	switch s := src.(type) {
	case *image.RGBA:
		return func(y int, sums []uint64) {
			pix := s.Pix[s.PixOffset(b.Min.X, y):][:4*sw]
			for ox := 0; 4*ox < len(sums); ox++ {
				sum := sums[4*ox : 4*ox+4 : 4*ox+4]
				for i := 4 * ox * k; i < 4*min((ox+1)*k, sw); i += 4 {
					p := pix[i : i+4 : i+4]
					sum[0] += uint64(p[0])
					sum[1] += uint64(p[1])
					sum[2] += uint64(p[2])
					sum[3] += uint64(p[3])
				}
			}
		}, 0xff
	case *image.NRGBA:
		// Colour times alpha is the premultiplied colour times 255.
		return func(y int, sums []uint64) {
			pix := s.Pix[s.PixOffset(b.Min.X, y):][:4*sw]
			for ox := 0; 4*ox < len(sums); ox++ {
				sum := sums[4*ox : 4*ox+4 : 4*ox+4]
				for i := 4 * ox * k; i < 4*min((ox+1)*k, sw); i += 4 {
					p := pix[i : i+4 : i+4]
					a := uint64(p[3])
					sum[0] += uint64(p[0]) * a
					sum[1] += uint64(p[1]) * a
					sum[2] += uint64(p[2]) * a
					sum[3] += a * 0xff
				}
			}
		}, 0xff * 0xff
	}
	read := rowReader(src)
	row := make([]uint32, 4*sw)
	return func(y int, sums []uint64) {
		read(y, row)
		for x := range sw {
			o := 4 * (x / k)
			sums[o] += uint64(row[4*x])
			sums[o+1] += uint64(row[4*x+1])
			sums[o+2] += uint64(row[4*x+2])
			sums[o+3] += uint64(row[4*x+3])
		}
	}, 0xffff
}

// rowReader returns a function that writes row y of src into row as
// premultiplied 16-bit RGBA, with fast paths for the other images
// image/png decodes to.
func rowReader(src image.Image) func(y int, row []uint32) {
	b := src.Bounds()
	switch s := src.(type) {
	case *image.RGBA64:
		return func(y int, row []uint32) {
			pix := s.Pix[s.PixOffset(b.Min.X, y):]
			for i := range row {
				row[i] = uint32(pix[2*i])<<8 | uint32(pix[2*i+1])
			}
		}
	case *image.NRGBA64:
		return func(y int, row []uint32) {
			pix := s.Pix[s.PixOffset(b.Min.X, y):]
			for i := 0; i < len(row); i += 4 {
				a := uint32(pix[2*i+6])<<8 | uint32(pix[2*i+7])
				for c := range 3 {
					row[i+c] = (uint32(pix[2*(i+c)])<<8 | uint32(pix[2*(i+c)+1])) * a / 0xffff
				}
				row[i+3] = a
			}
		}
	case *image.Gray:
		return func(y int, row []uint32) {
			pix := s.Pix[s.PixOffset(b.Min.X, y):]
			for x := range len(row) / 4 {
				v := uint32(pix[x]) * 0x101
				row[4*x], row[4*x+1], row[4*x+2], row[4*x+3] = v, v, v, 0xffff
			}
		}
	case *image.Gray16:
		return func(y int, row []uint32) {
			pix := s.Pix[s.PixOffset(b.Min.X, y):]
			for x := range len(row) / 4 {
				v := uint32(pix[2*x])<<8 | uint32(pix[2*x+1])
				row[4*x], row[4*x+1], row[4*x+2], row[4*x+3] = v, v, v, 0xffff
			}
		}
	case *image.Paletted:
		pal := make([][4]uint32, 256)
		for i, c := range s.Palette {
			r, g, bl, a := c.RGBA()
			pal[i] = [4]uint32{r, g, bl, a}
		}
		return func(y int, row []uint32) {
			pix := s.Pix[s.PixOffset(b.Min.X, y):]
			for x := range len(row) / 4 {
				copy(row[4*x:4*x+4], pal[pix[x]][:])
			}
		}
	}
	return func(y int, row []uint32) {
		for x := range len(row) / 4 {
			r, g, bl, a := src.At(b.Min.X+x, y).RGBA()
			row[4*x], row[4*x+1], row[4*x+2], row[4*x+3] = r, g, bl, a
		}
	}
}
