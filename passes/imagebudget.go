package passes

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"image/png"

	"golang.org/x/sync/semaphore"
)

// ErrImageTooLarge marks an image whose header declares more pixels than
// an upload may decode to (an *ImageError with TooLarge). It is an
// ErrBadImage too.
var ErrImageTooLarge = fmt.Errorf("%w: over the pixel budget", ErrBadImage)

// The pixel budget of an uploaded image, checked on its header before any
// pixel is decoded. A PNG of zeros compresses about 1000:1, so a 130 KB
// file can declare 4096×4096 pixels at 16 bits per channel, which decode
// to 128 MiB; the budget is on what the pixels decode to, not on the file.
const (
	// MaxImageSide bounds the width and the height (so 16 Mpx in all). The
	// largest file a pass needs is strip@3x at 1125×432.
	MaxImageSide = 4096
	// MaxImageDecoded bounds the bytes the decoded pixels take: 16 Mpx at
	// 8 bits per channel, 8 Mpx at 16 bits per channel.
	MaxImageDecoded = 64 << 20
)

// DefaultDecodeBudget is the memory an ImageScaler lets all its decodes
// hold at once unless told otherwise: one image at the limit, or many
// ordinary ones.
const DefaultDecodeBudget = 128 << 20

// pngHeader is what a PNG's chunks before the image data say about the
// memory its pixels will take.
type pngHeader struct {
	width, height int
	depth         int // bits per sample
	colorType     byte
	interlaced    bool
	// transparency is a tRNS chunk, which makes gray and truecolor images
	// decode with an alpha channel.
	transparency bool
}

// readPNGHeader reads and checks the header of src without decoding any
// pixels, and refuses an image beyond the pixel budget with
// ErrImageTooLarge.
func readPNGHeader(src []byte) (pngHeader, error) {
	if !bytes.HasPrefix(src, pngSignature) {
		return pngHeader{}, &ImageError{Reason: "not a PNG file"}
	}
	// DecodeConfig checks that IHDR comes first, is well formed and
	// matches its CRC, so its fields can be read from fixed offsets.
	if _, err := png.DecodeConfig(bytes.NewReader(src)); err != nil {
		return pngHeader{}, &ImageError{Reason: err.Error()}
	}
	h := pngHeader{
		width:      int(binary.BigEndian.Uint32(src[16:])),
		height:     int(binary.BigEndian.Uint32(src[20:])),
		depth:      int(src[24]),
		colorType:  src[25],
		interlaced: src[28] == 1,
	}
	// The chunks between IHDR and the first IDAT; a length past the end
	// of src ends the walk (the decode will refuse such a file).
	for off := 33; off+8 <= len(src); {
		n := binary.BigEndian.Uint32(src[off:])
		typ := string(src[off+4 : off+8])
		if typ == "IDAT" || uint64(n) > uint64(len(src)) {
			break
		}
		if typ == "tRNS" {
			h.transparency = true
		}
		off += 12 + int(n)
	}
	if h.width < 1 || h.height < 1 {
		return h, &ImageError{Reason: fmt.Sprintf("%d×%d pixels", h.width, h.height)}
	}
	if h.width > MaxImageSide || h.height > MaxImageSide || h.decodedBytes() > MaxImageDecoded {
		return h, &ImageError{TooLarge: true, Reason: fmt.Sprintf("%d×%d pixels at %d bits per channel decode to %d MiB; "+
			"the limit is %d pixels a side and %d MiB decoded (16 Mpx at 8 bits per channel, 8 Mpx at 16)",
			h.width, h.height, max(8, h.depth), mib(h.decodedBytes()), MaxImageSide, mib(MaxImageDecoded))}
	}
	return h, nil
}

// decodedBytes is the size of the image image/png decodes h into: Gray or
// Paletted (1 byte a pixel), Gray16 (2), RGBA or NRGBA (4), RGBA64 or
// NRGBA64 (8).
func (h pngHeader) decodedBytes() int64 {
	wide := h.depth == 16
	var bpp int64
	switch {
	case h.colorType == 3: // palette
		bpp = 1
	case h.colorType == 0 && !h.transparency: // gray
		bpp = 1
		if wide {
			bpp = 2
		}
	default: // gray with tRNS, truecolor, gray+alpha, truecolor+alpha
		bpp = 4
		if wide {
			bpp = 8
		}
	}
	return int64(h.width) * int64(h.height) * bpp
}

// decodeCost estimates the memory ScaleImage holds at its peak for an
// image of kind: the decoded pixels (twice for an interlaced image, whose
// seven passes are decoded apart and then merged) and the scaling scratch,
// which grows with the box: an RGBA copy at most twice the @3x box on each
// side, and the scaler's 32 bytes per pixel of a box-wide, source-high
// intermediate.
func (h pngHeader) decodeCost(box imageBox) int64 {
	n := h.decodedBytes()
	if h.interlaced {
		n *= 2
	}
	w, hh := int64(box.w*3), int64(box.h*3)
	return n + 4*(2*w)*(2*hh) + 32*w*(2*hh)
}

func mib(n int64) int64 { return (n + 1<<20 - 1) >> 20 }

// ImageScaler runs ScaleImage with a bound on the memory its decodes hold
// together: an upload whose estimated cost does not fit in what is left of
// the budget waits for others to finish. Images over the pixel budget are
// refused from their header, without waiting and without decoding.
type ImageScaler struct {
	budget int64
	sem    *semaphore.Weighted
}

// NewImageScaler returns an ImageScaler whose decodes hold at most budget
// bytes at once; budget <= 0 means DefaultDecodeBudget.
func NewImageScaler(budget int64) *ImageScaler {
	if budget <= 0 {
		budget = DefaultDecodeBudget
	}
	return &ImageScaler{budget: budget, sem: semaphore.NewWeighted(budget)}
}

// Scale is ScaleImage under the scaler's memory budget. It returns ctx's
// error if ctx ends while the image waits for its turn.
func (s *ImageScaler) Scale(ctx context.Context, kind string, src []byte) (map[string][]byte, error) {
	box, ok := imageBoxes[kind]
	if !ok {
		return nil, fmt.Errorf("scale image: unknown image kind %q", kind)
	}
	h, err := readPNGHeader(src)
	if err != nil {
		return nil, scaleError(kind, err)
	}
	// A cost above the whole budget would wait forever; it runs alone.
	cost := min(h.decodeCost(box), s.budget)
	if err := s.sem.Acquire(ctx, cost); err != nil {
		return nil, fmt.Errorf("scale %s image: wait for memory to decode: %w", kind, err)
	}
	defer s.sem.Release(cost)
	return ScaleImage(kind, src)
}
