package passes

import (
	"bytes"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"hash/crc32"
	"sync"

	"github.com/loyalpass/loyalpass/assets"
)

// maxCachedDesigns bounds how many programs' image sets a Renderer keeps.
// An entry holds the program's own slices, so the bound is on memory the
// cache keeps alive after the caller has dropped them.
const maxCachedDesigns = 512

// imageNames lists the image files every pass carries, in package order.
var imageNames = func() []string {
	var names []string
	for _, kind := range []string{ImageIcon, ImageLogo, ImageStrip} {
		for scale := 1; scale <= 3; scale++ {
			names = append(names, imageFileName(kind, scale))
		}
	}
	return names
}()

// packedFile is one file of a package with the digests the manifest and
// the ZIP directory need. For images they are computed once and reused by
// every pass that carries the same bytes: hashing images is the largest
// cost of a pass after the signature.
type packedFile struct {
	name  string
	data  []byte
	sha1  string // lowercase hex, as manifest.json wants it
	crc32 uint32 // IEEE, as the ZIP directory wants it
}

func newPackedFile(name string, data []byte) packedFile {
	sum := sha1.Sum(data)
	return packedFile{
		name:  name,
		data:  data,
		sha1:  hex.EncodeToString(sum[:]),
		crc32: crc32.ChecksumIEEE(data),
	}
}

// loadDefaultImages packs the embedded default images.
func loadDefaultImages() ([]packedFile, error) {
	files := make([]packedFile, 0, len(imageNames))
	for _, name := range imageNames {
		data, ok := assets.DefaultImage(name)
		if !ok {
			return nil, fmt.Errorf("default image %s is not embedded", name)
		}
		files = append(files, newPackedFile(name, data))
	}
	return files, nil
}

// designImages is a program's packed image set: the defaults with the
// program's own images in their place.
type designImages struct {
	version int64
	sizes   map[string]int // length of each of the program's own images
	files   []packedFile
}

// matches reports whether images plausibly are the ones e was built from.
// It is a cheap guard against a caller that changed images without bumping
// Program.Version; it cannot see a same-length change.
func (e *designImages) matches(version int64, images map[string][]byte) bool {
	if e.version != version || len(e.sizes) != len(images) {
		return false
	}
	for name, data := range images {
		if n, ok := e.sizes[name]; !ok || n != len(data) {
			return false
		}
	}
	return true
}

// imageCache keeps packed image sets by program ID, one version each.
type imageCache struct {
	mu      sync.Mutex
	designs map[string]*designImages
}

// imagesFor returns the packed images of p: the defaults when p has none of
// its own, otherwise the set cached for p.ID and p.Version, built on a miss.
func (r *Renderer) imagesFor(p Program) ([]packedFile, error) {
	if r.defaultsErr != nil {
		return nil, r.defaultsErr
	}
	images := p.Design.Images
	if len(images) == 0 {
		return r.defaults, nil
	}
	c := &r.designs
	if p.ID != "" {
		c.mu.Lock()
		e := c.designs[p.ID]
		c.mu.Unlock()
		if e != nil && e.matches(p.Version, images) {
			return e.files, nil
		}
	}
	// Hash outside the lock: a miss costs a millisecond or so per megabyte
	// and must not hold up passes of other programs.
	e, err := packDesign(r.defaults, p.Version, images)
	if err != nil {
		return nil, err
	}
	if p.ID != "" {
		c.mu.Lock()
		if c.designs == nil {
			c.designs = make(map[string]*designImages)
		}
		if _, ok := c.designs[p.ID]; !ok && len(c.designs) >= maxCachedDesigns {
			for id := range c.designs { // evict an arbitrary entry
				delete(c.designs, id)
				break
			}
		}
		c.designs[p.ID] = e
		c.mu.Unlock()
	}
	return e.files, nil
}

// packDesign builds the image set of a design from the defaults and the
// design's images, which must be PNG files with names a store card uses.
func packDesign(defaults []packedFile, version int64, images map[string][]byte) (*designImages, error) {
	e := &designImages{
		version: version,
		sizes:   make(map[string]int, len(images)),
		files:   make([]packedFile, len(defaults)),
	}
	copy(e.files, defaults)
	for name, data := range images {
		i := indexOfImage(name)
		if i < 0 {
			return nil, fmt.Errorf("design image %q: %w", name, &ImageError{Field: name, Reason: "a store card has no such image"})
		}
		if !bytes.HasPrefix(data, pngSignature) {
			return nil, fmt.Errorf("design image %q: %w", name, &ImageError{Field: name, Reason: "not a PNG file"})
		}
		e.sizes[name] = len(data)
		e.files[i] = newPackedFile(name, data)
	}
	return e, nil
}

func indexOfImage(name string) int {
	for i, n := range imageNames {
		if n == name {
			return i
		}
	}
	return -1
}
