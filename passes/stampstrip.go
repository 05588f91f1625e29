package passes

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"strconv"
	"sync"

	"golang.org/x/image/draw"
)

// The stamp strip: a stamp card's strip.png is drawn for each count of
// stamps, filled ones in the foreground colour (with the merchant's stamp
// icon when there is one) and empty ones as rings in the label colour, on
// the background colour. Sizes follow Apple's strip slot for store cards
// and coupons, 375×144 points; the stamps keep inside a centred 123-point
// band and away from the side edges, which devices crop.
const (
	stripW, stripH = 375, 144
	stripBand      = 123
	stripSideGap   = 24 // points kept clear at the left and right
	stripBandGap   = 8  // points kept clear at the top and bottom of the band
	stripSamples   = 4  // subsamples per pixel side, for smooth edges
)

// stampArea is where stamps are drawn, in points: the image's size, the
// band the stamps keep to (centred), and the margins inside it.
type stampArea struct {
	w, h, band, sideGap, bandGap int
}

var (
	// appleStrip is the strip slot of a store card or a coupon.
	appleStrip = stampArea{w: stripW, h: stripH, band: stripBand, sideGap: stripSideGap, bandGap: stripBandGap}
	// googleHero is a Google Wallet hero image: 1032×336 pixels at @3x,
	// 3:1 or wider as Google asks, shown full width.
	googleHero = stampArea{w: 344, h: 112, band: 112, sideGap: 16, bandGap: 8}
)

// stampLayout places total stamps in rows: the number of rows that gives
// the largest cells, and the side of a cell, in points.
func (a stampArea) stampLayout(total int) (rows, cols int, cell float64) {
	w, h := float64(a.w-2*a.sideGap), float64(a.band-2*a.bandGap)
	for r := 1; r <= 4; r++ {
		c := (total + r - 1) / r
		if size := math.Min(w/float64(c), h/float64(r)); size > cell {
			rows, cols, cell = r, c, size
		}
	}
	return rows, cols, cell
}

// stripDesign is what a strip is drawn with.
type stripDesign struct {
	bg, fg, label color.NRGBA
	icon          image.Image // nil: the default stamp
}

// drawStampStrip draws filled of total stamps on area at scale 1–3.
func drawStampStrip(a stampArea, d stripDesign, filled, total, scale int) *image.NRGBA {
	s := float64(scale)
	img := image.NewNRGBA(image.Rect(0, 0, a.w*scale, a.h*scale))
	draw.Draw(img, img.Bounds(), image.NewUniform(d.bg), image.Point{}, draw.Src)
	if total < 1 {
		return img
	}
	rows, cols, cell := a.stampLayout(total)
	top := (float64(a.h) - float64(rows)*cell) / 2 // the band is centred, and the rows in it
	r := 0.42 * cell * s
	for i := 0; i < total; i++ {
		row, col := i/cols, i%cols
		inRow := min(cols, total-row*cols) // the last row may be shorter: centre it
		left := (float64(a.w) - float64(inRow)*cell) / 2
		cx := (left + (float64(col)+0.5)*cell) * s
		cy := (top + (float64(row)+0.5)*cell) * s
		if i < filled {
			drawStamp(img, d, cx, cy, r, true)
			if d.icon != nil {
				side := int(math.Round(1.2 * r))
				x0, y0 := int(math.Round(cx))-side/2, int(math.Round(cy))-side/2
				draw.CatmullRom.Scale(img, image.Rect(x0, y0, x0+side, y0+side), d.icon, d.icon.Bounds(), draw.Over, nil)
			}
			continue
		}
		drawStamp(img, d, cx, cy, r, false)
	}
	return img
}

// drawStamp paints one stamp centred at (cx, cy) with radius r, in pixels:
// a filled disk (marked with a tick unless an icon goes on it) or an
// empty ring. Each pixel is the average of its subsamples' colours.
func drawStamp(img *image.NRGBA, d stripDesign, cx, cy, r float64, filled bool) {
	ring := max(0.14*r, 2)                                            // at least two pixels, or @1x rings break up
	tick := [3][2]float64{{-0.45, 0.02}, {-0.12, 0.36}, {0.5, -0.34}} // in radii
	inTick := func(x, y float64) bool {
		for k := 0; k < 2; k++ {
			if segmentDist(x, y, tick[k][0]*r, tick[k][1]*r, tick[k+1][0]*r, tick[k+1][1]*r) < 0.09*r {
				return true
			}
		}
		return false
	}
	shade := func(x, y float64) color.NRGBA { // x, y relative to the centre
		dist := math.Hypot(x, y)
		switch {
		case !filled && dist <= r && dist >= r-ring:
			return d.label
		case filled && dist <= r && d.icon == nil && inTick(x, y):
			return d.bg
		case filled && dist <= r:
			return d.fg
		}
		return d.bg
	}
	b := image.Rect(int(cx-r)-1, int(cy-r)-1, int(cx+r)+2, int(cy+r)+2).Intersect(img.Bounds())
	const n = stripSamples
	for py := b.Min.Y; py < b.Max.Y; py++ {
		for px := b.Min.X; px < b.Max.X; px++ {
			var sr, sg, sb, sa int
			for j := 0; j < n; j++ {
				for i := 0; i < n; i++ {
					c := shade(float64(px)+(float64(i)+0.5)/n-cx, float64(py)+(float64(j)+0.5)/n-cy)
					sr, sg, sb, sa = sr+int(c.R), sg+int(c.G), sb+int(c.B), sa+int(c.A)
				}
			}
			img.SetNRGBA(px, py, color.NRGBA{uint8(sr / (n * n)), uint8(sg / (n * n)), uint8(sb / (n * n)), uint8(sa / (n * n))})
		}
	}
}

// segmentDist is the distance from (x, y) to the segment (x1, y1)–(x2, y2).
func segmentDist(x, y, x1, y1, x2, y2 float64) float64 {
	dx, dy := x2-x1, y2-y1
	t := math.Max(0, math.Min(1, ((x-x1)*dx+(y-y1)*dy)/(dx*dx+dy*dy)))
	return math.Hypot(x-x1-t*dx, y-y1-t*dy)
}

// maxCachedStrips bounds the stamp strips a Renderer keeps: one entry
// per program version and count, three images each.
const maxCachedStrips = 1024

// stripCache keeps drawn strips by program, version and count: a strip
// depends on nothing else, so each is drawn and hashed once.
type stripCache struct {
	mu     sync.Mutex
	strips map[string][]packedFile
}

// withStampStrip returns images with the strip of card c's stamps in
// place of the strip files. The strip is drawn from (program version,
// filled, goal) and cached by them.
func (r *Renderer) withStampStrip(images []packedFile, p Program, c Card) ([]packedFile, error) {
	total := p.StampsRequired
	filled := int(max(0, min(c.Balance, int64(total))))
	key := p.ID + "/" + strconv.FormatInt(p.Version, 10) + "/" + strconv.Itoa(filled) + "/" + strconv.Itoa(total)
	strips := r.cachedStrips(key)
	if strips == nil {
		var err error
		if strips, err = stampStripFiles(p, filled, total); err != nil {
			return nil, err
		}
		r.cacheStrips(key, p.ID, strips)
	}
	out := make([]packedFile, len(images))
	copy(out, images)
	for _, f := range strips {
		out[indexOfImage(f.name)] = f
	}
	return out, nil
}

func (r *Renderer) cachedStrips(key string) []packedFile {
	r.strips.mu.Lock()
	defer r.strips.mu.Unlock()
	return r.strips.strips[key]
}

func (r *Renderer) cacheStrips(key, programID string, files []packedFile) {
	if programID == "" {
		return // no identity to key a cache by
	}
	c := &r.strips
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.strips == nil {
		c.strips = make(map[string][]packedFile)
	}
	if len(c.strips) >= maxCachedStrips {
		for k := range c.strips { // evict an arbitrary entry
			delete(c.strips, k)
			break
		}
	}
	c.strips[key] = files
}

// stampStripFiles draws and packs strip.png, strip@2x.png and strip@3x.png.
func stampStripFiles(p Program, filled, total int) ([]packedFile, error) {
	d, err := newStripDesign(p)
	if err != nil {
		return nil, err
	}
	enc := png.Encoder{CompressionLevel: png.DefaultCompression}
	files := make([]packedFile, 0, 3)
	for scale := 1; scale <= 3; scale++ {
		var buf bytes.Buffer
		if err := enc.Encode(&buf, drawStampStrip(appleStrip, d, filled, total, scale)); err != nil {
			return nil, fmt.Errorf("stamp strip @%dx: %w", scale, err)
		}
		files = append(files, newPackedFile(imageFileName(ImageStrip, scale), buf.Bytes()))
	}
	return files, nil
}

// newStripDesign reads a program's colours and stamp icon. Colours left
// out take Wallet's look: a dark card with white stamps.
func newStripDesign(p Program) (stripDesign, error) {
	d := stripDesign{bg: color.NRGBA{0x1f, 0x29, 0x37, 0xff}, fg: color.NRGBA{0xff, 0xff, 0xff, 0xff},
		label: color.NRGBA{0xcb, 0xd5, 0xe1, 0xff}}
	for _, c := range []struct {
		hex string
		dst *color.NRGBA
	}{{p.Design.BackgroundColor, &d.bg}, {p.Design.ForegroundColor, &d.fg}, {p.Design.LabelColor, &d.label}} {
		if c.hex == "" {
			continue
		}
		v, err := strconv.ParseUint(c.hex[1:], 16, 32)
		if len(c.hex) != 7 || c.hex[0] != '#' || err != nil {
			return d, fmt.Errorf("program %s design: colour %q is not #rrggbb", p.ID, c.hex)
		}
		*c.dst = color.NRGBA{uint8(v >> 16), uint8(v >> 8), uint8(v), 0xff}
	}
	if len(p.Design.StampIcon) > 0 {
		icon, err := png.Decode(bytes.NewReader(p.Design.StampIcon))
		if err != nil {
			return d, fmt.Errorf("program %s: %w", p.ID, &ImageError{Field: ImageStamp, Reason: err.Error()})
		}
		d.icon = icon
	}
	return d, nil
}

// StampHero draws the Google Wallet hero image of a stamp card of p with
// filled stamps: 1032×336 pixels, PNG, in the program's colours and stamp
// icon. It depends on nothing else, so it may be served at a URL that
// names the program version and the count (Google caches images by URL).
func StampHero(p Program, filled int) ([]byte, error) {
	if p.StampsRequired < 1 {
		return nil, fmt.Errorf("program %s: a stamp card needs its goal", p.ID)
	}
	d, err := newStripDesign(p)
	if err != nil {
		return nil, err
	}
	filled = max(0, min(filled, p.StampsRequired))
	var buf bytes.Buffer
	if err := png.Encode(&buf, drawStampStrip(googleHero, d, filled, p.StampsRequired, 3)); err != nil {
		return nil, fmt.Errorf("stamp hero: %w", err)
	}
	return buf.Bytes(), nil
}
