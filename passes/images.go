package passes

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/png"
	"math"

	"golang.org/x/image/draw"
)

// ErrBadImage marks an uploaded image that cannot go on a pass: not a PNG,
// corrupt, or of absurd dimensions. The API answers it with a client error.
var ErrBadImage = errors.New("unusable image")

// ImageError is an image that cannot go on a pass. Field names the image
// (its kind, "logo", or its file name, "logo@2x.png"), when known; Reason
// says what is wrong with it, for the one who uploaded it. It matches
// ErrBadImage, and ErrImageTooLarge when the image is over the pixel budget.
type ImageError struct {
	Field    string
	Reason   string
	TooLarge bool
}

func (e *ImageError) Error() string {
	if e.TooLarge {
		return fmt.Sprintf("%v: %s", ErrImageTooLarge, e.Reason)
	}
	return fmt.Sprintf("%v: %s", ErrBadImage, e.Reason)
}

// Is makes the error match ErrBadImage, and ErrImageTooLarge if TooLarge.
func (e *ImageError) Is(target error) bool {
	return target == ErrBadImage || (e.TooLarge && target == ErrImageTooLarge)
}

// scaleError names the image kind in an error of ScaleImage or Scale.
func scaleError(kind string, err error) error {
	var ie *ImageError
	if errors.As(err, &ie) && ie.Field == "" {
		ie.Field = kind
	}
	return fmt.Errorf("scale %s image: %w", kind, err)
}

// Image kinds a store card shows, and the stamp a stamp card's strip is
// drawn with (not a file of the package itself).
const (
	ImageIcon  = "icon"
	ImageLogo  = "logo"
	ImageStrip = "strip"
	ImageStamp = "stamp"
)

// imageBox is the space Wallet allots to an image kind, in points.
type imageBox struct {
	w, h int
	// cover scales the image to fill the whole box and crops the overflow,
	// the way Wallet lays out a strip anyway; otherwise the image is scaled
	// to fit inside the box.
	cover bool
}

// imageBoxes holds the store card sizes from Apple's Human Interface
// Guidelines ("Wallet › Specifications › Pass image dimensions", 2025): icon
// 38×38, logo up to 160×50, strip 375×144 for coupons and store cards. Older
// Apple guides gave the icon as 29×29; a larger icon is only scaled down.
var imageBoxes = map[string]imageBox{
	ImageIcon:  {w: 38, h: 38},
	ImageLogo:  {w: 160, h: 50},
	ImageStrip: {w: 375, h: 144, cover: true},
	// A stamp fills at most 1.2 × 0.42 of a 54-point cell (six stamps in
	// a row); 50 points leaves room for the largest.
	ImageStamp: {w: 50, h: 50},
}

var pngSignature = []byte("\x89PNG\r\n\x1a\n")

// imageFileName returns the package file name of kind at scale 1, 2 or 3:
// "logo.png", "logo@2x.png", "logo@3x.png".
func imageFileName(kind string, scale int) string {
	if scale == 1 {
		return kind + ".png"
	}
	return fmt.Sprintf("%s@%dx.png", kind, scale)
}

// ScaleImage turns an uploaded PNG into the three files of an image kind
// ("icon", "logo" or "strip"): kind.png, kind@2x.png and kind@3x.png, each
// scaled from src to the kind's box at that scale, keeping the aspect ratio.
// Icons and logos are scaled to fit inside their box; strips are scaled to
// cover theirs and centre-cropped, as Wallet would crop them. It is meant to
// run once, when a merchant uploads an image, and the result to be stored as
// Design.Images entries. The caller bounds the size of src in bytes; errors
// about src itself wrap ErrBadImage. An image over the pixel budget
// (MaxImageSide, MaxImageDecoded) is refused from its header, before any
// pixel is decoded, with ErrImageTooLarge. ScaleImage does not bound how
// many images decode at once; an ImageScaler does.
func ScaleImage(kind string, src []byte) (map[string][]byte, error) {
	box, ok := imageBoxes[kind]
	if !ok {
		return nil, fmt.Errorf("scale image: unknown image kind %q", kind)
	}
	if _, err := readPNGHeader(src); err != nil {
		return nil, scaleError(kind, err)
	}
	img, err := png.Decode(bytes.NewReader(src))
	if err != nil {
		return nil, scaleError(kind, &ImageError{Reason: err.Error()})
	}
	// Only @3x reads the source, which may be large; @2x and @1x are scaled
	// down from it.
	largest := scaleInto(prepare(img, box), box.w*3, box.h*3, box.cover)

	out := make(map[string][]byte, 3)
	// BestCompression gains little on images this size and is pathologically
	// slow on smooth (upscaled) pixels.
	enc := png.Encoder{CompressionLevel: png.DefaultCompression}
	for scale := 1; scale <= 3; scale++ {
		dst := largest
		if scale < 3 {
			dst = scaleInto(largest, box.w*scale, box.h*scale, box.cover)
		}
		var buf bytes.Buffer
		if err := enc.Encode(&buf, dst); err != nil {
			return nil, fmt.Errorf("scale %s image: encode @%dx: %w", kind, scale, err)
		}
		out[imageFileName(kind, scale)] = buf.Bytes()
	}
	return out, nil
}

// prepare turns a decoded image into what the scaler reads fast, RGBA or
// NRGBA, and box-averages a source more than twice the size of the kind's
// @3x box down to at most twice that size, which keeps the scaler's work
// and scratch memory bounded by the box rather than by the upload.
func prepare(img image.Image, box imageBox) image.Image {
	b := img.Bounds()
	fx, fy := float64(box.w*3)/float64(b.Dx()), float64(box.h*3)/float64(b.Dy())
	f := math.Min(fx, fy)
	if box.cover {
		f = math.Max(fx, fy)
	}
	k := shrinkFactor(f)
	switch img.(type) {
	case *image.RGBA, *image.NRGBA:
		if k == 1 {
			return img
		}
	}
	return shrink(img, k)
}

// scaleInto scales src for a w×h box: to fit inside it, or, with cover, to
// fill it exactly, cropping the centre of src.
func scaleInto(src image.Image, w, h int, cover bool) *image.RGBA {
	sb := src.Bounds()
	sw, sh := float64(sb.Dx()), float64(sb.Dy())
	fx, fy := float64(w)/sw, float64(h)/sh

	if cover {
		f := math.Max(fx, fy)
		// The part of src that maps onto the box, centred.
		cw := min(sb.Dx(), max(1, int(math.Round(float64(w)/f))))
		ch := min(sb.Dy(), max(1, int(math.Round(float64(h)/f))))
		x0 := sb.Min.X + (sb.Dx()-cw)/2
		y0 := sb.Min.Y + (sb.Dy()-ch)/2
		dst := image.NewRGBA(image.Rect(0, 0, w, h))
		draw.CatmullRom.Scale(dst, dst.Bounds(), src, image.Rect(x0, y0, x0+cw, y0+ch), draw.Src, nil)
		return dst
	}

	f := math.Min(fx, fy)
	dw := max(1, min(w, int(math.Round(sw*f))))
	dh := max(1, min(h, int(math.Round(sh*f))))
	dst := image.NewRGBA(image.Rect(0, 0, dw, dh))
	draw.CatmullRom.Scale(dst, dst.Bounds(), src, sb, draw.Src, nil)
	return dst
}
