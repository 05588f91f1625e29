package passcheck

import (
	"archive/zip"
	"bytes"
	"crypto"
	"crypto/sha1" //nolint:gosec // manifest format
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"sort"
	"sync"
	"testing"
	"unicode/utf16"

	"github.com/loyalpass/loyalpass/certs"
	"github.com/smallstep/pkcs7"
)

// Identifiers the fixture chain and pass.json agree on.
const (
	testPassTypeID = "pass.dev.loyalpass.test"
	testTeamID     = "TEAM123456"
)

// testChain is a development signing chain: root, WWDR-like intermediate
// and Pass Type ID leaf, as certs.GenerateDev writes them.
type testChain struct {
	root, inter, leaf *x509.Certificate
	key               crypto.Signer
	roots             *x509.CertPool
}

var (
	chainsOnce     sync.Once
	chainA, chainB *testChain
	chainsErr      error
)

// chains returns two independent development chains, generated once per
// test binary because RSA key generation is slow.
func chains(tb testing.TB) (a, b *testChain) {
	tb.Helper()
	chainsOnce.Do(func() {
		if chainA, chainsErr = newTestChain(); chainsErr == nil {
			chainB, chainsErr = newTestChain()
		}
	})
	if chainsErr != nil {
		tb.Fatalf("development chain: %v", chainsErr)
	}
	return chainA, chainB
}

// newTestChain generates a chain with certs.GenerateDev in a temporary
// directory and reads it back.
func newTestChain() (*testChain, error) {
	dir, err := os.MkdirTemp("", "passcheck-chain-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	files, err := certs.GenerateDev(dir, certs.DevOptions{PassTypeID: testPassTypeID, TeamID: testTeamID})
	if err != nil {
		return nil, err
	}
	ch := &testChain{roots: x509.NewCertPool()}
	for _, f := range []struct {
		path string
		dst  **x509.Certificate
	}{{files.Root, &ch.root}, {files.Intermediate, &ch.inter}, {files.Cert, &ch.leaf}} {
		der, err := readPEM(f.path, "CERTIFICATE")
		if err != nil {
			return nil, err
		}
		if *f.dst, err = x509.ParseCertificate(der); err != nil {
			return nil, err
		}
	}
	der, err := readPEM(files.Key, "PRIVATE KEY")
	if err != nil {
		return nil, err
	}
	key, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, err
	}
	ch.key = key.(crypto.Signer)
	ch.roots.AddCert(ch.root)
	return ch, nil
}

func readPEM(path, typ string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(data)
	if block == nil || block.Type != typ {
		return nil, fmt.Errorf("%s: no %s PEM block", path, typ)
	}
	return block.Bytes, nil
}

// build describes a package to assemble; each test starts from newBuild's
// valid package and breaks one thing.
type build struct {
	pass  map[string]any    // encoded into pass.json unless files has one
	files map[string][]byte // every file but manifest.json and signature
	// editManifest changes the manifest entries before they are encoded.
	editManifest func(m map[string]any)
	// manifest replaces the encoded manifest.json bytes.
	manifest []byte
	// sign makes the signature over the manifest bytes; nil drops the
	// signature file.
	sign func(manifest []byte) []byte
	// rename moves archive entries after hashing and signing.
	rename map[string]string
	// extra entries are appended to the archive as they are (unlisted).
	extra []entry
}

type entry struct {
	name string
	data []byte
}

// newBuild returns a valid store card package signed with chain a by
// smallstep/pkcs7 (SHA-256, signer + intermediate, detached).
func newBuild(tb testing.TB) *build {
	a, _ := chains(tb)
	return &build{
		pass: validPass(tb),
		files: map[string][]byte{
			"icon.png":              pngImage(tb, 29),
			"icon@2x.png":           pngImage(tb, 58),
			"icon@3x.png":           pngImage(tb, 87),
			"strip.png":             pngImage(tb, 10),
			"en.lproj/logo.png":     pngImage(tb, 16),
			"ru.lproj/logo.png":     pngImage(tb, 16),
			"en.lproj/pass.strings": []byte("/* English */\n\"POINTS\" = \"Points\";\n// tier\n\"TIER\" = \"Tier\";\n"),
			"ru.lproj/pass.strings": utf16LE("\"POINTS\" = \"Баллы\";\n\"TIER\" = \"Уровень\";\n"),
		},
		sign: func(m []byte) []byte { return smallstepSign(tb, a, m, true) },
	}
}

// validPass returns a pass.json that breaks no rule.
func validPass(tb testing.TB) map[string]any {
	var p map[string]any
	err := json.Unmarshal([]byte(`{
		"formatVersion": 1,
		"passTypeIdentifier": "`+testPassTypeID+`",
		"teamIdentifier": "`+testTeamID+`",
		"serialNumber": "SN-0001",
		"description": "Coffee loyalty card",
		"organizationName": "Coffee Co",
		"logoText": "Coffee",
		"foregroundColor": "rgb(255, 255, 255)",
		"backgroundColor": "rgb(60,65,76)",
		"labelColor": "rgb(200, 200, 200)",
		"webServiceURL": "https://example.com/wallet",
		"authenticationToken": "0123456789abcdef0123",
		"barcodes": [{"format": "PKBarcodeFormatQR", "message": "1234567890", "messageEncoding": "iso-8859-1", "altText": "1234 5678 90"}],
		"expirationDate": "2030-01-31T18:00:00Z",
		"storeCard": {
			"headerFields": [{"key": "tier", "label": "TIER", "value": "Gold"}],
			"primaryFields": [{"key": "balance", "label": "POINTS", "value": 120, "changeMessage": "Balance: %@"}],
			"secondaryFields": [{"key": "holder", "label": "NAME", "value": "Anna"}],
			"auxiliaryFields": [{"key": "updated", "label": "UPDATED", "value": "2026-01-31T18:00:00+03:00",
				"dateStyle": "PKDateStyleShort", "timeStyle": "PKDateStyleNone", "textAlignment": "PKTextAlignmentRight"}],
			"backFields": [{"key": "terms", "label": "TERMS", "value": "Earn 5% back."}]
		}
	}`), &p)
	if err != nil {
		tb.Fatalf("fixture pass.json: %v", err)
	}
	return p
}

// storeCard returns the style dictionary of a validPass.
func (b *build) storeCard() map[string]any {
	return b.pass["storeCard"].(map[string]any)
}

// bytes assembles the package: pass.json, the manifest of every file,
// the signature, then renames and extras.
func (b *build) bytes(tb testing.TB) []byte {
	tb.Helper()
	files := make(map[string][]byte, len(b.files)+1)
	for name, data := range b.files {
		files[name] = data
	}
	if _, ok := files[passFile]; !ok && b.pass != nil {
		data, err := json.MarshalIndent(b.pass, "", "  ")
		if err != nil {
			tb.Fatal(err)
		}
		files[passFile] = data
	}
	manifest := b.manifest
	if manifest == nil {
		m := make(map[string]any, len(files))
		for name, data := range files {
			sum := sha1.Sum(data) //nolint:gosec // manifest format
			m[name] = hex.EncodeToString(sum[:])
		}
		if b.editManifest != nil {
			b.editManifest(m)
		}
		var err error
		if manifest, err = json.Marshal(m); err != nil {
			tb.Fatal(err)
		}
	}
	files[manifestFile] = manifest
	if b.sign != nil {
		files[signatureFile] = b.sign(manifest)
	}
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	add := func(name string, data []byte) {
		w, err := zw.Create(name)
		if err == nil {
			_, err = w.Write(data)
		}
		if err != nil {
			tb.Fatal(err)
		}
	}
	for _, name := range names {
		zipName := name
		if to, ok := b.rename[name]; ok {
			zipName = to
		}
		add(zipName, files[name])
	}
	for _, e := range b.extra {
		add(e.name, e.data)
	}
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// smallstepSign signs content the way the renderer does: smallstep/pkcs7,
// SHA-256, detached, with or without the intermediate.
func smallstepSign(tb testing.TB, ch *testChain, content []byte, withIntermediate bool) []byte {
	tb.Helper()
	sd, err := pkcs7.NewSignedData(content)
	if err != nil {
		tb.Fatal(err)
	}
	sd.SetDigestAlgorithm(pkcs7.OIDDigestAlgorithmSHA256)
	var parents []*x509.Certificate
	if withIntermediate {
		parents = []*x509.Certificate{ch.inter}
	}
	if err := sd.AddSignerChain(ch.leaf, ch.key, parents, pkcs7.SignerInfoConfig{}); err != nil {
		tb.Fatal(err)
	}
	sd.Detach()
	der, err := sd.Finish()
	if err != nil {
		tb.Fatal(err)
	}
	return der
}

// pngImage encodes a square PNG of the given size.
func pngImage(tb testing.TB, size int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, size, size))
	for i := range size {
		img.Set(i, i, color.RGBA{R: 200, A: 255})
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// utf16LE encodes s as UTF-16 little-endian with a byte-order mark, the
// encoding Apple recommends for non-ASCII .strings files.
func utf16LE(s string) []byte {
	out := []byte{0xFF, 0xFE}
	for _, u := range utf16.Encode([]rune(s)) {
		out = append(out, byte(u), byte(u>>8))
	}
	return out
}
