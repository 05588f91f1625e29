package passes

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/loyalpass/loyalpass/certs"
	"github.com/loyalpass/loyalpass/internal/locale"
)

// ContentType is the MIME type of a .pkpass file.
const ContentType = "application/vnd.apple.pkpass"

// Renderer builds signed Apple Wallet store cards (.pkpass files). It is
// safe for concurrent use; one per signing identity is enough.
//
// Signing dominates the cost of a pass. Everything else is kept cheap: the
// digests of images are computed once per distinct image set, images are
// stored in the ZIP as they are (PNG is already compressed), and nothing is
// read from disk.
type Renderer struct {
	m             *certs.Material
	signer        *Signer
	webServiceURL string
	texts         *locale.Catalogue

	defaults    []packedFile // the embedded default images
	defaultsErr error
	designs     imageCache
	strips      stripCache // stamp cards' strips by program version and count
}

// NewRenderer returns a Renderer that signs with m. webServiceURL is the
// base URL of loyalpass's Wallet web service (Wallet appends /v1/...); when
// empty, passes carry neither webServiceURL nor authenticationToken and
// never update.
func NewRenderer(m *certs.Material, webServiceURL string, opts ...RendererOption) *Renderer {
	r := &Renderer{m: m, signer: NewSigner(m), webServiceURL: webServiceURL, texts: locale.Shipped()}
	for _, o := range opts {
		o(r)
	}
	r.defaults, r.defaultsErr = loadDefaultImages()
	return r
}

// RendererOption configures a Renderer.
type RendererOption func(*Renderer)

// WithTexts makes the Renderer take its fixed texts, and the languages it
// writes pass.strings for, from c instead of the shipped catalogue.
func WithTexts(c *locale.Catalogue) RendererOption {
	return func(r *Renderer) { r.texts = c }
}

// Render returns the signed .pkpass of card c in program p: a store
// card, or a coupon pass for a coupon program.
//
// The package holds pass.json, the icon, logo and strip images at @1x, @2x
// and @3x (the program's Design.Images in place of the defaults, file by
// file; a stamp card's strip drawn with its stamps), en.lproj and ru.lproj
// pass.strings with the pass's fixed texts, manifest.json and signature.
//
// Fixed labels are keyed by their wording in Program.Locale (English when
// empty); an empty BarcodeFormat means QR. Images are hashed once per
// program and then reused by Program.ID and Program.Version: a caller that
// changes Design.Images must bump Version, as the Program contract says.
func (r *Renderer) Render(p Program, c Card) ([]byte, error) {
	m := r.m
	if m == nil || m.PassTypeID == "" || m.TeamID == "" {
		return nil, errors.New("render pass: signing material lacks pass type ID or team ID")
	}
	images, err := r.imagesFor(p)
	if err != nil {
		return nil, fmt.Errorf("render pass %s: %w", c.SerialNumber, err)
	}
	if p.kind() == KindStamps {
		if images, err = r.withStampStrip(images, p, c); err != nil {
			return nil, fmt.Errorf("render pass %s: %w", c.SerialNumber, err)
		}
	}

	tag := p.Locale
	if tag == "" {
		tag = LocaleEN
	}
	l := newLocalizer(r.texts, tag)
	passBytes, err := buildPassJSON(passContent{
		passTypeID:    m.PassTypeID,
		teamID:        m.TeamID,
		webServiceURL: r.webServiceURL,
	}, p, c, l)
	if err != nil {
		return nil, fmt.Errorf("render pass: %w", err)
	}

	tags := r.texts.Tags()
	files := make([]packedFile, 0, 1+len(images)+len(tags)+2)
	files = append(files, newPackedFile("pass.json", passBytes))
	files = append(files, images...)
	for _, loc := range tags {
		files = append(files, newPackedFile(loc+".lproj/pass.strings", l.stringsFile(loc)))
	}

	manifest, err := buildManifest(files)
	if err != nil {
		return nil, fmt.Errorf("render pass %s: %w", c.SerialNumber, err)
	}
	signature, err := r.signer.Sign(manifest)
	if err != nil {
		return nil, fmt.Errorf("render pass %s: %w", c.SerialNumber, err)
	}
	files = append(files, newPackedFile("manifest.json", manifest), newPackedFile("signature", signature))

	out, err := writeZip(files, c.UpdatedAt)
	if err != nil {
		return nil, fmt.Errorf("render pass %s: %w", c.SerialNumber, err)
	}
	return out, nil
}

// buildManifest encodes manifest.json: every file's path mapped to the
// SHA-1 of its exact bytes.
func buildManifest(files []packedFile) ([]byte, error) {
	entries := make(map[string]string, len(files))
	for _, f := range files {
		entries[f.name] = f.sha1
	}
	manifest, err := json.Marshal(entries)
	if err != nil {
		return nil, fmt.Errorf("encode manifest.json: %w", err)
	}
	return manifest, nil
}

// writeZip stores files, uncompressed, in a ZIP archive. Stored entries
// with sizes and CRC known up front need no data descriptors, which every
// pkpass reader handles. Deflate does not pay: the PNGs are compressed
// already, and deflating the JSON and strings files saved 2 KB of a 49 KB
// pass but cost about 170 µs, a fifth of the RSA signature (measured with
// archive/zip's pooled flate writers, Go 1.26).
func writeZip(files []packedFile, modified time.Time) ([]byte, error) {
	size := 22 // end of central directory
	for _, f := range files {
		size += len(f.data) + 2*(46+len(f.name)) + 40
	}
	buf := bytes.NewBuffer(make([]byte, 0, size))
	zw := zip.NewWriter(buf)
	dosDate, dosTime := msDOSTime(modified)
	for _, f := range files {
		w, err := zw.CreateRaw(&zip.FileHeader{
			Name:               f.name,
			Method:             zip.Store,
			ModifiedDate:       dosDate,
			ModifiedTime:       dosTime,
			CRC32:              f.crc32,
			CompressedSize64:   uint64(len(f.data)),
			UncompressedSize64: uint64(len(f.data)),
		})
		if err != nil {
			return nil, fmt.Errorf("zip %s: %w", f.name, err)
		}
		if _, err := w.Write(f.data); err != nil {
			return nil, fmt.Errorf("zip %s: %w", f.name, err)
		}
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("zip: %w", err)
	}
	return buf.Bytes(), nil
}

// msDOSTime encodes t (in UTC) as a ZIP entry's date and time; CreateRaw,
// unlike CreateHeader, takes them as they are. Times outside what the
// format holds, the zero time included, become 1980-01-01 00:00.
func msDOSTime(t time.Time) (date, clock uint16) {
	t = t.UTC()
	if t.Year() < 1980 || t.Year() > 2107 {
		return 1<<5 | 1, 0
	}
	date = uint16((t.Year()-1980)<<9 | int(t.Month())<<5 | t.Day())
	clock = uint16(t.Hour()<<11 | t.Minute()<<5 | t.Second()/2)
	return date, clock
}
